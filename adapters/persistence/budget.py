"""Database connections as a budget (spec 13): the most connections each process type of the
Procfile can hold at once, the total of a stack scaled as given, and the check a process makes
at start against what the server has left.

A process holds at most as many connections as it has threads that can use one at the same
moment (pool.py keeps it at that and gives idle ones back):
- packaging, report, poll, merchant: every worker thread may hold one, plus the thread that
  marks published outbox rows;
- ingest, split: only the thread leading a group commit holds one (the others wait for it,
  holding none), plus the marking thread and one dead-letter record at a time;
- scheduler: its tick, plus the marking thread; outbox sweeper and dead-letter keeper: one;
- api: per uvicorn worker process, OMS_API_DB_CONNECTIONS for the reads awaited on the event loop
  (async_reads.py: merchant order, order, merchant order list), as many for the other reads
  (autocommit) and as many for the rest (command outcomes, dead letters, cargo conditions);
  requests beyond wait, then 503.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, text

from adapters.settings import Settings

GROUPED = ("ingest", "split")
THREADED = ("packaging", "report", "poll", "merchant")
# the Procfile's process types, in its order
PROCESS_TYPES = (*GROUPED, *THREADED, "scheduler", "outbox", "deadletters", "api")
MARKS_THREAD = 1  # outbox_relay.PublishedMarks: one UPDATE per flush, on a thread of its own
GROUP_CONNECTIONS = 1 + MARKS_THREAD + 1  # the leader, the marks, one dead-letter record
API_ENGINES = 3  # api/context.py: the reads awaited on the loop, the reads' engine, the other


def stage_pool(stage: str, threads: int) -> int:
    """Connections one worker process of `stage` may hold (its pool's size). `all` (every stage
    in one process, the e2e tests) is threaded."""
    if stage in GROUPED:
        return min(threads + MARKS_THREAD, GROUP_CONNECTIONS)
    return threads + MARKS_THREAD


def per_process(kind: str, settings: Settings, api_workers: int = 2) -> int:
    """The most connections one Procfile line of `kind` holds (one group, one process each
    as the Procfile starts them; `api` counts its uvicorn workers)."""
    if kind in GROUPED:
        return stage_pool(kind, settings.group_threads)
    if kind in THREADED:
        return stage_pool(kind, settings.worker_threads)
    if kind == "scheduler":
        return 1 + MARKS_THREAD
    if kind in ("outbox", "deadletters"):
        return 1
    if kind == "api":
        return api_workers * API_ENGINES * settings.api_db_connections
    raise ValueError(f"unknown process type {kind!r}; known: {', '.join(PROCESS_TYPES)}")


def parse_scale(text: str | None) -> dict[str, int]:
    """`ingest=2,split=2` (honcho's -c syntax); types not named run once."""
    scale = dict.fromkeys(PROCESS_TYPES, 1)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, count = part.partition("=")
        name = name.strip()
        if name not in scale:
            raise ValueError(f"unknown process type {name!r}; known: {', '.join(PROCESS_TYPES)}")
        if not count.strip().isdigit():
            raise ValueError(f"{name}={count!r}: the count must be a whole number >= 0")
        scale[name] = int(count)
    return scale


@dataclass(frozen=True)
class Line:
    kind: str
    each: int
    count: int

    @property
    def total(self) -> int:
        return self.each * self.count


def stack(settings: Settings, scale: Mapping[str, int], api_workers: int = 2) -> list[Line]:
    return [Line(k, per_process(k, settings, api_workers), scale.get(k, 1)) for k in PROCESS_TYPES]


@dataclass(frozen=True)
class Server:
    max_connections: int
    reserved: int  # superuser_reserved_connections (+ reserved_connections on PostgreSQL 16+)
    in_use: int  # client backends connected now, every database

    @property
    def available(self) -> int:
        """What ordinary roles can still open."""
        return self.max_connections - self.reserved - self.in_use


def server(engine: Engine) -> Server:
    with engine.connect() as connection:
        maximum = int(connection.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(connection.execute(text("SHOW superuser_reserved_connections")).scalar_one())
        in_use = int(
            connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
            ).scalar_one()
        )
        connection.rollback()
    return Server(maximum, reserved, in_use - 1)  # not this check's own connection


class BudgetError(SystemExit):
    """A process whose pool the server cannot serve: it stops at start, saying so."""


def check_at_start(url: str, what: str, need: int, settings: Settings) -> None:
    """Fail now, naming the numbers, when the server cannot give `what` its `need` connections
    on top of those in use. Behind PgBouncer the pooler's own limits apply: not checked here.
    A server that cannot be reached is not this check's business (the process's own first
    transaction says so, and retries)."""
    if settings.pooled or not url.startswith("postgresql"):
        return
    from adapters.persistence.engine import make_engine

    engine = make_engine(url, pool_size=1, connect_timeout=5)
    try:
        found = server(engine)
    except Exception:
        return
    finally:
        engine.dispose()
    if need > found.available:
        raise BudgetError(
            f"{what} needs up to {need} PostgreSQL connections, but the server can serve only "
            f"{max(found.available, 0)} more (max_connections {found.max_connections}, "
            f"{found.reserved} reserved for superusers, {found.in_use} in use). Lower the "
            "threads (OMS_WORKER_THREADS, OMS_GROUP_THREADS, OMS_API_DB_CONNECTIONS, "
            "--processes), raise max_connections, or put PgBouncer in front "
            "(OMS_DATABASE_POOLER=pgbouncer); `oms db connections` shows the whole stack."
        )
