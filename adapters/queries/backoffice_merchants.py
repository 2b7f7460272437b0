"""Merchants with their process, and the processes (spec 9.1, 12), for the Back Office."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.merchants import SqlMerchantProcessRepository
from domain.merchant_oms import Process

_m = t.merchants


def merchant_page(
    engine: Engine, *, after: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str | None]:
    """Merchants by reference (keyset: references after `after`), and the next page's key."""
    query = select(_m.c.reference, _m.c.name, _m.c.oms_process).order_by(_m.c.reference)
    if after is not None:
        query = query.where(_m.c.reference > after)
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(query.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1]["reference"] if more and rows else None


def processes(engine: Engine) -> list[Process]:
    """Every merchant process with its transitions and reserved states."""
    with engine.connect() as connection:
        repository = SqlMerchantProcessRepository(connection)
        found = [repository.get(name) for name in repository.names()]
    return [process for process in found if process is not None]
