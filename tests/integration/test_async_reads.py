"""The reads awaited on the event loop (adapters/persistence/async_reads.py, adapters/queries/
awaited.py) on the real PostgreSQL: the same documents as the synchronous reads, prepared or not;
a pool that is a budget (never more connections than its size, a read beyond waits and then
fails as SQLAlchemy's pool timeout), closes idle connections, and closes — never reuses — a
connection whose read failed or was cancelled mid-statement."""

from __future__ import annotations

import asyncio
import select
import time
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters.persistence.async_reads import AsyncReads, _Connection
from adapters.persistence.engine import make_engine
from adapters.persistence.prepared_reads import ReadStatement
from adapters.persistence.statement_count import StatementCounter
from adapters.queries import awaited
from adapters.queries.merchant_reads import merchant_order_detail, merchant_order_page
from adapters.queries.orders import find_orders
from tests.api.stored import example, store

pytestmark = pytest.mark.services

SLEEP = ReadStatement(text("SELECT pg_sleep(:seconds) AS slept, 1 AS one"))


@pytest.fixture
def reads_engine(postgres_url: str) -> Engine:
    return make_engine(postgres_url, pool_size=2, autocommit=True)


def test_the_awaited_reads_are_the_synchronous_documents(
    postgres_url: str, pg: Engine, reads_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = example()
    store(pg, body)
    number, reference = body["number"], f"{body['number']}--MER000002"

    async def read_all(pool: AsyncReads) -> tuple[Any, Any, Any]:
        try:
            return (
                await awaited.merchant_order_detail(pool, reads_engine, reference, "MER000002"),
                await awaited.find_orders(pool, reads_engine, number, None),
                await awaited.merchant_order_page(pool, reads_engine, "MER000002", limit=5),
            )
        finally:
            pool.close()

    expected = (
        merchant_order_detail(reads_engine, reference, "MER000002"),
        find_orders(reads_engine, number, None),
        merchant_order_page(reads_engine, "MER000002", limit=5),
    )
    assert expected[0] is not None and expected[1] and expected[2].rows
    for prepared in ("true", "false"):  # false: as behind PgBouncer, the SQL as itself
        monkeypatch.setenv("OMS_PREPARED_STATEMENTS", prepared)
        pool = AsyncReads(postgres_url, size=2, idle_seconds=10)
        with StatementCounter(pool) as counted:
            assert asyncio.run(read_all(pool)) == expected, prepared
        assert any(s.startswith("PREPARE") for s in counted.statements) == (prepared == "true")
    missing = asyncio.run(
        awaited.merchant_order_detail(
            AsyncReads(postgres_url, size=1, idle_seconds=10), reads_engine, reference, "MER000005"
        )
    )
    assert missing is None  # another merchant's: the same None as a missing one


def test_the_pool_is_a_budget_and_a_read_beyond_it_times_out(postgres_url: str) -> None:
    async def run() -> tuple[int, int, BaseException | None]:
        pool = AsyncReads(postgres_url, size=2, idle_seconds=10, pool_timeout=0.3)
        highest = 0

        async def watch() -> None:
            nonlocal highest
            for _ in range(40):
                highest = max(highest, pool.open_connections)
                await asyncio.sleep(0.01)

        slow = [pool.rows(SLEEP, {"seconds": 0.2}) for _ in range(4)]  # two wait their turn
        results = await asyncio.gather(*slow, watch(), return_exceptions=True)
        assert all(not isinstance(r, BaseException) for r in results), results
        # all busy for 0.6 s: a read waiting 0.3 s for a connection fails
        busy = [asyncio.ensure_future(pool.rows(SLEEP, {"seconds": 0.6})) for _ in range(2)]
        await asyncio.sleep(0.05)
        error: BaseException | None = None
        try:
            await pool.rows(SLEEP, {"seconds": 0})
        except PoolTimeout as timeout:
            error = timeout
        await asyncio.gather(*busy)
        opened = pool.open_connections
        pool.close()
        return highest, opened, error

    highest, opened, error = asyncio.run(run())
    assert highest == 2 and opened == 2
    assert isinstance(error, PoolTimeout)


def test_idle_connections_are_closed(postgres_url: str, pg: Engine) -> None:
    async def run() -> tuple[int, int]:
        pool = AsyncReads(postgres_url, size=3, idle_seconds=0.2)
        await asyncio.gather(*(pool.rows(SLEEP, {"seconds": 0.1}) for _ in range(3)))
        before = pool.open_connections
        await asyncio.sleep(0.5)
        return before, pool.open_connections

    before, after = asyncio.run(run())
    assert (before, after) == (3, 0)
    with pg.connect() as connection:  # and the server agrees: none of them is left
        left = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert left == 0


def test_a_cancelled_or_failed_read_closes_its_connection(postgres_url: str) -> None:
    async def run() -> tuple[int, int, int, type[BaseException]]:
        pool = AsyncReads(postgres_url, size=1, idle_seconds=10)
        await pool.rows(SLEEP, {"seconds": 0})
        first = pool.open_connections
        reading = asyncio.ensure_future(pool.rows(SLEEP, {"seconds": 5}))
        await asyncio.sleep(0.2)
        reading.cancel()  # a client gone mid-statement
        await asyncio.gather(reading, return_exceptions=True)
        after_cancel = pool.open_connections
        failing = ReadStatement(text("SELECT 1 / CAST(:zero AS INTEGER) AS boom"))
        raised: type[BaseException] = BaseException
        try:
            await pool.rows(failing, {"zero": 0})
        except DBAPIError as error:
            raised = type(error)
        after_failure = pool.open_connections
        rows = await pool.rows(SLEEP, {"seconds": 0})  # the next read works, on a new one
        assert rows[0].one == 1
        pool.close()
        return first, after_cancel, after_failure, raised

    first, after_cancel, after_failure, raised = asyncio.run(run())
    assert (first, after_cancel, after_failure) == (1, 0, 0)
    assert issubclass(raised, DBAPIError)


def test_a_database_that_does_not_answer_is_an_operational_error() -> None:
    pool = AsyncReads("postgresql://postgres@127.0.0.1:1/nothing", size=1, idle_seconds=10)
    with pytest.raises(DBAPIError) as raised:
        asyncio.run(pool.rows(SLEEP, {"seconds": 0}))
    assert type(raised.value).__name__ == "OperationalError"
    assert pool.open_connections == 0


def _killed_while_idle(postgres_url: str, pg: Engine) -> None:
    backend = ReadStatement(text("SELECT pg_backend_pid() AS pid"))

    async def run() -> tuple[int, int, int, bool]:
        pool = AsyncReads(postgres_url, size=1, idle_seconds=10)
        first = (await pool.rows(backend, {}))[0].pid
        with pg.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        idle = pool._idle[0]
        for _ in range(100):  # the loop hears the closed socket (a loaded machine: later)
            if idle.spoken:
                break
            await asyncio.sleep(0.05)
        unwatched = not idle.watched and idle.spoken
        second = (await pool.rows(backend, {}))[0].pid
        opened = pool.open_connections
        pool.close()
        return first, second, opened, unwatched

    first, second, opened, unwatched = asyncio.run(run())
    assert second != first and opened == 1
    assert unwatched


def test_an_idle_connection_the_server_closed_is_replaced(postgres_url: str, pg: Engine) -> None:
    """Killed while idle in the pool: the loop hears its socket once, stops watching it (no
    spin), and the next read opens another."""
    _killed_while_idle(postgres_url, pg)


def test_a_connection_whose_reads_never_waited_is_heard_when_killed_too(
    postgres_url: str, pg: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every answer already there at the first poll (as on a loaded machine, the thread
    descheduled between sending and polling): no read had to wait on the socket, and the idle
    connection is watched all the same (it was not: the next read took the killed connection
    and failed, "terminating connection due to administrator command")."""
    waited = _Connection.wait

    async def answered_before_the_first_poll(self: _Connection) -> None:
        select.select([self.fd], [], [], 5)
        time.sleep(0.05)  # the rest of a longer answer too
        await waited(self)

    monkeypatch.setattr(_Connection, "wait", answered_before_the_first_poll)
    _killed_while_idle(postgres_url, pg)


def test_connections_are_reused_read_after_read(postgres_url: str) -> None:
    """The loop's late news of a socket the last read drained is not taken for the server
    speaking: 400 reads, 8 at a time, on a pool of 4 use 4 backends."""
    backend = ReadStatement(text("SELECT pg_backend_pid() AS pid"))

    async def run() -> set[int]:
        pool = AsyncReads(postgres_url, size=4, idle_seconds=10)
        pids: set[int] = set()

        async def one() -> None:
            pids.add((await pool.rows(backend, {}))[0].pid)

        for _ in range(50):
            await asyncio.gather(*(one() for _ in range(8)))
        pool.close()
        return pids

    assert len(asyncio.run(run())) == 4


def test_a_pool_used_from_one_event_loop_then_another_still_reads(postgres_url: str) -> None:
    """An API worker has one loop; a tool calling the app under successive asyncio.run (oms
    bench api's statement count) must not find connections watched by a loop that is gone."""
    pool = AsyncReads(postgres_url, size=2, idle_seconds=10)
    backend = ReadStatement(text("SELECT pg_backend_pid() AS pid"))
    first = asyncio.run(pool.rows(backend, {}))[0].pid
    second = asyncio.run(pool.rows(backend, {}))[0].pid
    assert first != second and pool.open_connections == 1
    pool.close()
