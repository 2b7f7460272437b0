"""The queue charts' samples: written per declared queue, older than 15 minutes pruned by the
next write, read back per queue as (seconds before now, ready + unacked), oldest first. (The
session's database is shared: other modules' keepers write samples too, so this test looks at a
queue of its own.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from adapters.persistence.queue_samples import record_samples
from adapters.queries.queue_depths import depth_series


def test_samples_are_kept_for_15_minutes_and_read_as_depths(engine: Engine) -> None:
    queue, undeclared = f"test.{uuid.uuid4().hex[:8]}", f"test.{uuid.uuid4().hex[:8]}"

    def rows(ready: int, unacked: int | None) -> list[dict[str, object]]:
        return [
            {"queue": queue, "declared": True, "ready": ready, "unacked": unacked},
            {"queue": undeclared, "declared": False, "ready": 0, "unacked": 0},
        ]

    now = datetime.now(UTC)
    assert record_samples(engine, rows(7, 3), now - timedelta(minutes=16)) == 1
    record_samples(engine, rows(5, None), now - timedelta(minutes=10))
    record_samples(engine, rows(2, 1), now)  # prunes the 16-minute-old one
    samples = t.queue_depth_samples
    with engine.connect() as c:
        kept = select(func.count()).where(samples.c.queue_name.in_([queue, undeclared]))
        assert c.execute(kept).scalar() == 2
    series = depth_series(engine, now)
    assert series[queue] == [(-600.0, 5), (0.0, 3)]
    assert undeclared not in series
