"""The API's hot reads awaited on the event loop, without a thread (issue 22): psycopg2
connections in asynchronous mode (`async_=1`; the event loop waits on their socket, as aiopg
does), in a pool that is a budget like the others (spec 13): at most `size` connections, opened
when a read needs one, closed once idle for `idle_seconds`.

Why: a read run on a thread of an executor cost the API process twice its own CPU (in process,
the merchant order read's statement and document: 150 µs on the calling thread, 320-435 µs
through `run_in_executor`, the difference spent handing the GIL between the loop and the read
threads around every libpq call). The rows are psycopg2's, with the typecasters SQLAlchemy's
psycopg2 dialect registers on its connections (UUIDs), so a document built from them is the one
the synchronous read builds (tests/api/test_read_path.py compares them).

A statement is a prepared read's (prepared_reads.ReadStatement): PREPAREd once per connection,
then EXECUTEd, as on the synchronous read engine; with prepared statements off (PgBouncer in
transaction pooling, spec 13) the same SQL is sent as itself. Driver errors are raised as
SQLAlchemy's (the API maps a database that does not answer to 503); a connection that failed,
or whose read was cancelled mid-statement (a client gone), is closed, never reused."""

from __future__ import annotations

import asyncio
import contextlib
import re
import select
import time
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters.persistence.prepared import Prepared, enabled, heal
from adapters.persistence.prepared_reads import ReadStatement
from adapters.settings import database_url_with_driver

NUMBERED = re.compile(r"\$(\d+)")


class _Connection:
    """One asynchronous psycopg2 connection, what it has prepared, and its socket watched by
    the loop while it lives (adding and removing the reader at every statement, two epoll
    calls and a selector key each, were 6 % of a merchant order read's Python)."""

    def __init__(self, raw: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.raw = raw
        self.loop = loop
        self.fd = raw.fileno()
        self.prepared: set[str] = set()
        self.idle_since = time.monotonic()
        self.prepare = enabled()  # OMS_PREPARED_STATEMENTS, read once per connection
        self.waiter: asyncio.Future[None] | None = None
        self.watched = False
        self.spoken = False  # the server sent something while no read waited

    def _readable(self) -> None:
        if self.waiter is not None:
            if not self.waiter.done():
                self.waiter.set_result(None)
            return
        # No read waits. Mostly the readiness the loop saw before the last read's wake-up drained
        # the socket (it runs after that read, one iteration late): nothing to read now. Else the
        # server spoke while the connection was idle in the pool — ended it (a terminated
        # backend says FATAL, then closes) or sent a notice: then not watched any more (never a
        # loop woken in a spin) and not reused (the pool closes it at the next checkout).
        if select.select([self.fd], [], [], 0)[0]:
            self.spoken = True
            self.unwatch()

    def watch(self) -> None:
        if not self.watched:
            self.loop.add_reader(self.fd, self._readable)
            self.watched = True

    def unwatch(self) -> None:
        if self.watched:
            self.watched = False
            with contextlib.suppress(Exception):  # a loop already closed (at the very end)
                self.loop.remove_reader(self.fd)

    async def wait(self) -> None:
        """Until the current statement is done, waiting on the socket."""
        while True:
            state = self.raw.poll()
            if state == psycopg2.extensions.POLL_OK:
                return
            ready = self.loop.create_future()
            if state == psycopg2.extensions.POLL_READ:
                self.watch()
                self.waiter = ready
                try:
                    await ready
                finally:
                    self.waiter = None
            elif state == psycopg2.extensions.POLL_WRITE:  # a statement larger than a buffer
                self.loop.add_writer(self.fd, _done, ready)
                try:
                    await ready
                finally:
                    self.loop.remove_writer(self.fd)
            else:  # pragma: no cover  (psycopg2 raises on POLL_ERROR itself)
                raise psycopg2.OperationalError(f"unexpected poll state {state}")

    def close(self) -> None:
        self.unwatch()
        with contextlib.suppress(psycopg2.Error):
            self.raw.close()


async def _connected(raw: Any) -> None:
    """Until a new connection is made, waiting on its socket."""
    loop = asyncio.get_running_loop()
    while True:
        state = raw.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        ready = loop.create_future()
        fd = raw.fileno()
        if state == psycopg2.extensions.POLL_READ:
            loop.add_reader(fd, _done, ready)
            try:
                await ready
            finally:
                loop.remove_reader(fd)
        elif state == psycopg2.extensions.POLL_WRITE:
            loop.add_writer(fd, _done, ready)
            try:
                await ready
            finally:
                loop.remove_writer(fd)
        else:  # pragma: no cover  (psycopg2 raises on POLL_ERROR itself)
            raise psycopg2.OperationalError(f"unexpected poll state {state}")


def _done(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


def _unprepared(prepared: Prepared) -> str:
    """The prepared statement's SQL with psycopg2's named placeholders instead of $n."""
    escaped = prepared.sql.replace("%", "%%")
    return NUMBERED.sub(lambda m: f"%({prepared.parameters[int(m.group(1)) - 1]})s", escaped)


class AsyncReads:
    """A pool of asynchronous connections for one event loop (one per API worker process)."""

    def __init__(
        self,
        database_url: str,
        *,
        size: int,
        idle_seconds: float,
        connect_timeout: float = 2.0,
        pool_timeout: float = 5.0,
    ) -> None:
        url = make_url(database_url_with_driver(database_url))
        self._connect_args: dict[str, Any] = {
            key: value
            for key, value in {
                "host": url.host,
                "port": url.port,
                "user": url.username,
                "password": url.password,
                "dbname": url.database,
                **url.query,
            }.items()
            if value is not None
        }
        self._connect_args["application_name"] = "oms"
        self.size = max(1, size)
        self.idle_seconds = idle_seconds
        self.connect_timeout = connect_timeout
        self.pool_timeout = pool_timeout
        self._idle: list[_Connection] = []  # most recently used last (LIFO)
        self._open = 0
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reaper: asyncio.TimerHandle | None = None
        self._types: dict[tuple[str, ...], type[Any]] = {}
        # called with each statement's SQL as it is sent (statement_count.StatementCounter)
        self.listeners: list[Callable[[str], None]] = []

    def _row_type(self, names: tuple[str, ...]) -> type[Any]:
        """Rows read by name and position, like the synchronous read's (prepared_reads.py)."""
        found = self._types.get(names)
        if found is None:
            found = self._types[names] = namedtuple("Row", names, rename=True)
        return found

    @property
    def open_connections(self) -> int:
        return self._open

    async def rows(self, statement: ReadStatement, values: Mapping[str, Any]) -> Sequence[Any]:
        """The statement's rows, read by name and position like the synchronous read's."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._bind(loop)
        assert self._slots is not None
        if not self._slots.locked():
            await self._slots.acquire()  # one is free: taken at once, no timer
        else:  # all in use: wait at most pool_timeout (a scope: wait_for made a task per wait)
            try:
                async with asyncio.timeout(self.pool_timeout):
                    await self._slots.acquire()
            except TimeoutError:
                raise PoolTimeout(
                    f"no read connection free in {self.pool_timeout:.0f} s ({self.size} in use)"
                ) from None
        try:
            connection = await self._checkout()
            try:
                names, found = await self._run(connection, statement.prepared(), values)
            except BaseException:
                self._discard(connection)
                raise
            self._checkin(connection)
        finally:
            self._slots.release()
        make = self._row_type(names)._make
        return [make(row) for row in found]

    async def _run(
        self, connection: _Connection, prepared: Prepared, values: Mapping[str, Any]
    ) -> tuple[tuple[str, ...], list[Any]]:
        call, arguments = prepared.call(values)
        cursor = connection.raw.cursor()
        try:
            if not connection.prepare:
                sql = _unprepared(prepared)
                self._heard(sql)
                cursor.execute(sql, arguments)
            else:
                if prepared.name not in connection.prepared:
                    self._heard(f"PREPARE {prepared.name} AS {prepared.sql}")
                    cursor.execute(f"PREPARE {prepared.name} AS {prepared.sql}")
                    await connection.wait()
                    connection.prepared.add(prepared.name)
                self._heard(call)
                cursor.execute(call, arguments)
            await connection.wait()
            names = tuple(column[0] for column in cursor.description)
            return names, cursor.fetchall()
        except psycopg2.Error as error:
            wrapped = DBAPIError.instance(
                call, None, error, psycopg2.Error, hide_parameters=True,
                connection_invalidated=bool(connection.raw.closed),
            )  # fmt: skip
            heal(connection.prepared, prepared.name, wrapped)
            raise wrapped from error
        finally:
            cursor.close()

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The pool serves one event loop (an API worker has one). Used from another (a tool or
        test calling the app under successive asyncio.run): the idle connections, watched by
        the old loop, are closed, and the waiting starts afresh on this one."""
        self.close()
        self._open = 0
        self._loop = loop
        self._slots = asyncio.Semaphore(self.size)

    def _heard(self, sql: str) -> None:
        for listener in self.listeners:
            listener(sql)

    async def _checkout(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if not (connection.raw.closed or connection.spoken):
                return connection
            self._discard(connection)  # the server ended it while it was idle
        self._open += 1
        raw = None
        try:
            raw = psycopg2.connect(async_=1, **self._connect_args)
            await asyncio.wait_for(_connected(raw), self.connect_timeout)
        except BaseException as error:
            self._open -= 1
            if raw is not None:  # begun but not made (timed out, refused, cancelled): no leak
                with contextlib.suppress(psycopg2.Error):
                    raw.close()
            if isinstance(error, TimeoutError | psycopg2.Error):
                raise DBAPIError.instance(
                    "connect", None, error, psycopg2.Error, hide_parameters=True
                ) from error
            raise
        psycopg2.extras.register_uuid(None, raw)  # as SQLAlchemy's psycopg2 dialect does
        return _Connection(raw, asyncio.get_running_loop())

    def _checkin(self, connection: _Connection) -> None:
        if connection.raw.closed:
            self._discard(connection)
            return
        connection.idle_since = time.monotonic()
        # Watched while idle, to hear a server that ends it: a connection whose statements
        # never had to wait (the answer was there at the first poll, as on a loaded machine)
        # was not watched yet, and the next read took it, killed, and failed.
        connection.watch()
        self._idle.append(connection)
        if self.idle_seconds > 0 and self._reaper is None:
            loop = asyncio.get_running_loop()
            self._reaper = loop.call_later(self.idle_seconds, self._reap)

    def _discard(self, connection: _Connection) -> None:
        self._open -= 1
        connection.close()

    def _reap(self) -> None:
        """Close the connections idle for idle_seconds; come back while any stay open."""
        self._reaper = None
        now = time.monotonic()
        keep = []
        for connection in self._idle:
            if now - connection.idle_since >= self.idle_seconds:
                self._discard(connection)
            else:
                keep.append(connection)
        self._idle = keep
        if keep:
            loop = asyncio.get_running_loop()
            oldest = min(c.idle_since for c in keep)
            self._reaper = loop.call_later(oldest + self.idle_seconds - now, self._reap)

    def close(self) -> None:
        """Close the idle connections (at the process's end; reads in flight close theirs)."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        for connection in self._idle:
            self._discard(connection)
        self._idle = []
        self._slots = None  # bound to this loop; a later use makes one on its own
        self._loop = None
