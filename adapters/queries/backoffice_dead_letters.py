"""Dead letters for the Back Office (spec 10, 12): per queue, open ones or all, newest first,
with the order they name, the reason and the body; keyset pages on the id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.dead_letters import letter_state

_d = t.dead_letters


def letter_page(
    engine: Engine,
    queue_name: str | None,
    *,
    open_only: bool,
    before: int | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int | None]:
    """The page's letters (each with its state) and the keyset of the next page, or None."""
    query = select(_d).order_by(_d.c.id.desc()).limit(limit + 1)
    if queue_name is not None:
        query = query.where(_d.c.queue_name == queue_name)
    if open_only:
        query = query.where(_d.c.replayed_at.is_(None), _d.c.resolved_at.is_(None))
    if before is not None:
        query = query.where(_d.c.id < before)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    for letter in rows:
        letter["state"] = letter_state(letter)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1]["id"] if more and rows else None
