"""The queue charts' samples: written per declared queue, older than 15 minutes pruned by the
next write, read back per queue as (seconds before now, ready + unacked), oldest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from adapters.persistence.queue_samples import record_samples
from adapters.queries.queue_depths import depth_series


def _rows(ready: int, unacked: int | None) -> list[dict[str, object]]:
    return [
        {"queue": "oms.ingest", "declared": True, "ready": ready, "unacked": unacked},
        {"queue": "oms.split", "declared": False, "ready": 0, "unacked": 0},
    ]


def test_samples_are_kept_for_15_minutes_and_read_as_depths(engine: Engine) -> None:
    now = datetime.now(UTC)
    assert record_samples(engine, _rows(7, 3), now - timedelta(minutes=16)) == 1
    record_samples(engine, _rows(5, None), now - timedelta(minutes=10))
    record_samples(engine, _rows(2, 1), now)  # prunes the 16-minute-old one
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.queue_depth_samples)).scalar() == 2
    assert depth_series(engine, now) == {"oms.ingest": [(-600.0, 5), (0.0, 3)]}
