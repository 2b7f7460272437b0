"""Engines for PostgreSQL (production) and SQLite (the embedded demo)."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from adapters.persistence.pool import IdleClosingPool
from adapters.settings import database_url_with_driver

DEFAULT_IDLE_SECONDS = 10.0


def idle_seconds() -> float:
    """OMS_DB_IDLE_SECONDS (default 10; 0 keeps idle connections open)."""
    raw = os.environ.get("OMS_DB_IDLE_SECONDS", "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_IDLE_SECONDS
    except ValueError:
        return DEFAULT_IDLE_SECONDS


DRIVER_LEVEL = "oms_driver_level_reads"  # an execution option of the autocommit read engine


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    connect_timeout: int = 10,
    pool_timeout: float = 30.0,
    autocommit: bool = False,
) -> Engine:
    """`pool_size` is the most connections the engine ever holds at once (its budget, spec 13);
    they are opened when needed and closed after OMS_DB_IDLE_SECONDS unused (pool.py).

    `autocommit` (PostgreSQL): an engine for reads only. Its connections are in autocommit
    from the start (set once per connection: switching a pooled connection per checkout cost
    two round trips), so a read opens no transaction and its connection goes back to the pool
    with no ROLLBACK. (psycopg2's autocommit is the client's: it sends no SET, so it works
    through a transaction-pooling PgBouncer.) SQLite (the embedded demo) ignores it: its
    connections begin their own transactions (BEGIN IMMEDIATE)."""
    url = database_url_with_driver(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    extra: dict[str, Any] = {}
    if autocommit:  # and its prepared reads go to the driver directly (prepared_reads.py)
        extra = {
            "isolation_level": "AUTOCOMMIT",
            "execution_options": {DRIVER_LEVEL: True},
            # nothing to roll back when a connection returns: it never opens a transaction
            "pool_reset_on_return": None,
        }
    engine = create_engine(
        url,
        poolclass=IdleClosingPool,
        pool_size=max(1, pool_size),
        # No pre-ping: it costs a round trip per transaction. A connection that died is
        # discarded when it fails; the message fails with it and dramatiq retries it.
        pool_recycle=1800,
        pool_timeout=pool_timeout,
        # a failed statement's bound values are bodies (customer e-mail, names, addresses): its
        # error, which reaches tracebacks, logs and retry options, names the SQL only
        hide_parameters=True,
        connect_args={"connect_timeout": connect_timeout, "application_name": "oms"},
        **extra,
    )
    engine.pool.idle_seconds = idle_seconds()  # type: ignore[attr-defined]  # (dispose keeps it)
    return engine


def _sqlite_engine(url: str) -> Engine:
    """SQLite with WAL, a busy timeout and BEGIN IMMEDIATE, so concurrent writer threads
    queue for the write lock instead of failing on a read-to-write upgrade."""
    engine = create_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
