"""Queue depth samples (spec 12, the Back Office's queue charts): each pipeline queue's ready and
unacked counts, written by one process (the dead-letter keeper) every few seconds, older than
15 minutes pruned in the same transaction (adapters/queries/queue_depths.py reads them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert

from adapters.persistence import tables as t

WINDOW = timedelta(minutes=15)
_s = t.queue_depth_samples


def record_samples(
    engine: Engine, rows: Iterable[dict[str, Any]], now: datetime | None = None
) -> int:
    """One sample per declared queue at `now`; samples older than the window deleted."""
    now = now or datetime.now(UTC)
    values = [
        {"sampled_at": now, "queue_name": row["queue"], "ready": int(row.get("ready") or 0),
         "unacked": row.get("unacked")}
        for row in rows
        if row.get("declared", True)
    ]  # fmt: skip
    with engine.begin() as connection:
        if values:
            connection.execute(insert(_s), values)
        connection.execute(delete(_s).where(_s.c.sampled_at < now - WINDOW))
    return len(values)
