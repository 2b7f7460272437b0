"""Each pipeline queue's depth over the last 15 minutes (queue_depth_samples), for the Back
Office's queue charts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.queue_samples import WINDOW

_s = t.queue_depth_samples


def depth_series(engine: Engine, now: datetime | None = None) -> dict[str, list[tuple[float, int]]]:
    """Per queue, (seconds before now, ready + unacked) over the window, oldest first."""
    now = now or datetime.now(UTC)
    query = (
        select(_s.c.sampled_at, _s.c.queue_name, _s.c.ready, _s.c.unacked)
        .where(_s.c.sampled_at >= now - WINDOW)
        .order_by(_s.c.sampled_at)
    )
    series: dict[str, list[tuple[float, int]]] = {}
    with engine.connect() as connection:
        for at, queue, ready, unacked in connection.execute(query):
            moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
            ago = round((moment - now).total_seconds(), 1)
            series.setdefault(queue, []).append((ago, ready + (unacked or 0)))
    return series
