"""The API's three hottest reads — a merchant order, an order, a page of a merchant's merchant
orders — awaited on the event loop through the asynchronous read pool
(adapters/persistence/async_reads.py), no thread between. The same statements and the same
document-building functions as the synchronous reads beside them (merchant_reads.py, orders.py),
which `oms show`, the web pages and the other endpoints use: only the waiting differs. PostgreSQL
only (the pool is psycopg2's); on SQLite the API runs the synchronous reads on its executor."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Engine

from adapters.persistence.async_reads import AsyncReads
from adapters.persistence.merchants import cached_processes
from adapters.queries import merchant_reads, orders
from domain.merchant_oms import Process


async def _processes(engine: Engine, names: set[str] | list[str]) -> dict[str, Process | None]:
    """The merchant processes by name, from the per-engine cache; the first read of one (once
    per process and name) on a thread, on the synchronous read engine."""
    found = cached_processes(engine, names)
    if found is not None:
        return found

    def load() -> dict[str, Process | None]:
        with engine.connect() as connection:
            return orders.processes_by_name(connection, names)

    return await asyncio.to_thread(load)


async def merchant_order_detail(
    reads: AsyncReads, engine: Engine, reference: str, merchant_reference: str
) -> dict[str, Any] | None:
    """As merchant_reads.merchant_order_detail."""
    values = {"reference": reference, "merchant": merchant_reference}
    rows = await reads.rows(merchant_reads.DETAIL_ROWS, values)
    if not merchant_reads.one_merchant_order(rows):
        return None
    processes = await _processes(engine, {row.process for row in rows})
    return merchant_reads.detail_document(rows, processes)


async def find_orders(
    reads: AsyncReads, engine: Engine, key: str, channel_id: int | None
) -> list[dict[str, Any]]:
    """As orders.find_orders on PostgreSQL (the expenses on each row)."""
    statement, values = orders.order_values(key, channel_id)
    rows = await reads.rows(statement, values)
    if not rows:
        return []
    by_order = orders.by_order_of(rows)
    spent = orders.expenses_on_rows(by_order)
    processes = await _processes(engine, orders.process_names(rows))
    return [orders.document(found, spent.get(i, []), processes) for i, found in by_order.items()]


# the counts being read now, by key: the requests that find a large count expired at the same
# moment wait for one reading instead of each running it (with 100,000 merchant orders, every
# concurrent request of that moment counted them at once: the list's p99 83 ms)
_counting: dict[tuple[Any, ...], asyncio.Future[int]] = {}


async def _counted_once(key: tuple[Any, ...], read: Callable[[], Awaitable[Sequence[Any]]]) -> int:
    loop = asyncio.get_running_loop()
    pending = _counting.get(key)
    if pending is not None and pending.get_loop() is loop:
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            if not pending.cancelled():
                raise  # this request itself went away
        # the request reading it went away before it was read: read it here
    future: asyncio.Future[int] = loop.create_future()
    _counting[key] = future
    try:
        count = int((await read())[0][0])
        merchant_reads.remember_count(key, count)
        future.set_result(count)
        return count
    except asyncio.CancelledError:
        future.cancel()
        raise
    except Exception as error:
        future.set_exception(error)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waited
        raise
    finally:
        if _counting.get(key) is future:
            del _counting[key]


async def merchant_order_page(
    reads: AsyncReads, engine: Engine, merchant_reference: str, **filters: Any
) -> merchant_reads.MerchantOrderPage:
    """As merchant_reads.merchant_order_page (`state`, `created_from`, `created_to`, `offset`,
    `limit`), the large counts kept a second as there."""
    query = merchant_reads.PageQuery.of(
        merchant_reference,
        filters.get("state"),
        filters.get("created_from"),
        filters.get("created_to"),
        filters.get("offset", 0),
        filters.get("limit", 20),
    )
    key = (id(reads), query.count_key)
    count = merchant_reads.recent_count(key)
    if count is None:
        count = await _counted_once(key, lambda: reads.rows(query.counted, query.params))
    rows = await reads.rows(query.page, query.page_params) if count else []
    names = {r.process for r in rows if r.process is not None}
    return merchant_reads.page_of(count, rows, await _processes(engine, names))
