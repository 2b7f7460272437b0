"""What request handlers share in one process: settings, the database engine (and its
autocommit view for reads), the broker publisher, the API keys seen in the last second and the
health state, all created lazily (building the app, e.g. for the OpenAPI document, connects to
nothing)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Engine

from adapters.messaging.confirming_publisher import ConfirmingPublisher
from adapters.persistence.api_tokens import KeyCache
from adapters.persistence.async_reads import AsyncReads
from adapters.persistence.engine import idle_seconds, make_engine
from adapters.settings import Settings
from api.health import HealthState

DEFAULT_WAIT_SECONDS = 10.0
# threads of the read executor: as many as anyio's default for FastAPI's own thread pool, so a
# read beyond the connection budget still waits in the pool and answers 503 after its timeout
READ_THREADS = 40
T = TypeVar("T")


@dataclass
class ApiContext:
    settings: Settings
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    poll_seconds: float = 0.1
    _engine: Engine | None = None
    _reads: Engine | None = None
    _publisher: ConfirmingPublisher | None = None
    _awaited: AsyncReads | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    keys: KeyCache = field(default_factory=KeyCache)
    health: HealthState | None = None
    # its threads start at the first read; none exist before
    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(READ_THREADS, thread_name_prefix="oms-read")
    )

    @classmethod
    def from_env(cls) -> ApiContext:
        wait = float(os.environ.get("OMS_API_WAIT_SECONDS", DEFAULT_WAIT_SECONDS))
        return cls(Settings.from_env(), wait_seconds=max(0.0, wait))

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                # a database that is down fails the request in ~2 s (503), never hangs it
                self._engine = make_engine(
                    self.settings.database_url,
                    pool_size=self.settings.api_db_connections,  # the budget (spec 13)
                    connect_timeout=2,
                    pool_timeout=5,
                )
            return self._engine

    @property
    def reads(self) -> Engine:
        """The engine for reads (and key lookups): its connections in autocommit, so a read
        opens no transaction and none is rolled back when its connection returns to the pool.
        On SQLite, the engine itself."""
        engine = self.engine
        with self._lock:
            if self._reads is None:
                self._reads = engine
                if engine.dialect.name == "postgresql":
                    self._reads = make_engine(
                        self.settings.database_url,
                        pool_size=self.settings.api_db_connections,  # the budget (spec 13)
                        connect_timeout=2,
                        pool_timeout=5,
                        autocommit=True,
                    )
            return self._reads

    @property
    def publisher(self) -> ConfirmingPublisher:
        with self._lock:
            if self._publisher is None:
                self._publisher = ConfirmingPublisher(self.settings.broker_url, timeout=2.0)
            return self._publisher

    @property
    def awaited_reads(self) -> AsyncReads | None:
        """On PostgreSQL, the pool of the reads awaited on the event loop (adapters/queries/
        awaited.py), made at its first use, on the loop; None on SQLite. Its own budget of
        OMS_API_DB_CONNECTIONS (adapters/persistence/budget.py)."""
        if self._awaited is None and self.reads.dialect.name == "postgresql":
            self._awaited = AsyncReads(
                self.settings.database_url,
                size=self.settings.api_db_connections,
                idle_seconds=idle_seconds(),
            )
        return self._awaited

    async def hot_read(
        self,
        awaited: Callable[..., Awaitable[T]],
        threaded: Callable[..., T],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """`awaited(pool, reads engine, *args, **kwargs)` on the event loop (PostgreSQL), else
        `threaded(reads engine, *args, **kwargs)` on the read executor: the same read."""
        pool = self.awaited_reads
        if pool is None:
            return await self.read(threaded, self.reads, *args, **kwargs)
        return await awaited(pool, self.reads, *args, **kwargs)

    async def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`query(*args, **kwargs)` (a read through adapters/queries: it blocks on PostgreSQL)
        on a thread of this process's read executor, awaited by an `async def` endpoint:
        asyncio's executor costs a request half the CPU of FastAPI's route to its thread pool
        for a plain `def` endpoint (anyio's limiter and cancel scopes; issue 22's profile)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(query, *args, **kwargs))

    def close(self) -> None:
        if self.health is not None:
            self.health.stop()
        with self._lock:
            self._executor.shutdown(wait=False, cancel_futures=True)
            if self._awaited is not None:
                self._awaited.close()
                self._awaited = None
            if self._publisher is not None:
                self._publisher.close()
            if self._engine is not None:
                self._engine.dispose()
            if self._reads is not None:
                self._reads.dispose()


async def context(request: Request) -> ApiContext:
    """The dependency (async: FastAPI runs a plain `def` dependency in its threadpool, one
    thread hop per dependency and request)."""
    return context_of(request)


def context_of(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.context
    return found
