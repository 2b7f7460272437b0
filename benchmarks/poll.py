"""`oms bench poll --packages N`: one poll cycle over N packed packages on the real services.
It makes a database and a vhost of its own (never the configured ones; cli/scratch.py), seeds
N packed packages (and --stored delivered ones) with set-based inserts into the pipeline's own
tables (the per-order repository path would take minutes at this size), registers their orders
in an in-process Omnitron simulator with every item at 500, runs the poll workers as `dramatiq`
subprocesses, starts one cycle and reports packages/s, Omnitron calls per package, the cycle's
duration and the CPU seconds it took (workers, PostgreSQL backends, the bench process with its
simulator)."""

from __future__ import annotations

import gc
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.settings import Settings
from benchmarks.cpu import backend_cpu
from benchmarks.ingest import _wait_for_consumers
from cli.scratch import Scratch, announce, pause, scratch_services
from domain.merchant_oms import MAIN_PROCESS
from domain.model import TOTAL_NAMES

CHUNK = 20_000
MAIN = "MAIN"
# (order and order item, package and its items and shipment, merchant order item) statuses of
# a package the poll is due to read (packed) and of one it is done with (delivered)
DUE = (450, 500, "new")
DONE = (550, 800, "delivered")


def _seed(engine: Engine, simulator: OmnitronSimulator, count: int, stored: int = 0) -> None:
    """`count` packed packages registered in the simulator (every item at 500: each ships),
    and `stored` delivered ones beside them that no cycle reads. Each package has one item,
    with its merchant order item (process MainMerchantStateMachine) as the split writes it."""
    now = datetime.now(UTC)
    tag, base = uuid.uuid4().hex[:6].upper(), random.randrange(10**11, 10**12)
    with engine.begin() as c:
        c.execute(
            insert(t.channels),
            [{"id": 42, "name": "Trendyol", "channel_type": "trendyol", "created_at": now}],
        )
        c.execute(
            insert(t.merchants),
            [{"reference": MAIN, "oms_process": MAIN_PROCESS, "created_at": now}],
        )
    for start in range(0, count + stored, CHUNK):
        n = range(start, min(count + stored, start + CHUNK))
        due = [i for i in n if i < count]
        if due:
            _seed_chunk(engine, tag, base, range(due[0], due[-1] + 1), DUE, now)
            with simulator.state.lock:  # Omnitron already says: shipped
                for i in due:
                    number = f"BPOLL-{tag}-{i:07d}"
                    simulator.state.orders[number] = {
                        "number": number,
                        "status": "500",
                        "items": [{"id": base + i, "status": "500"}],
                    }
                    simulator.state.item_order[base + i] = number
        if len(due) < len(n):
            _seed_chunk(engine, tag, base, range(max(n.start, count), n.stop), DONE, now)


# One chunk of packages, each with its order, order item, merchant order, merchant order item
# (as the split writes them), package item and shipment: a statement per table, set-based on
# the server (rows joined by their numbers), so 300,000 packages seed in seconds.
SEED = [
    "INSERT INTO orders (channel_id, number, status, currency, date_placed, extra, split, "
    f"received_at, {', '.join(TOTAL_NAMES)}) SELECT 42, :prefix || lpad(i::text, 7, '0'), "
    f"CAST(:order_status AS smallint), 'try', :now, '{{}}', true, :now, "
    f"{', '.join('0' for _ in TOTAL_NAMES)} FROM generate_series(:lo, :hi) i",
    "INSERT INTO order_items (order_id, omnitron_id, sku, name, merchant_reference, quantity, "
    "price, tax_rate, discount_amount, status, extra) SELECT o.id, :base + i, 'S', 'N', :main, "
    "1, 100, '20', 0, CAST(:order_status AS smallint), '{}' FROM generate_series(:lo, :hi) i "
    "JOIN orders o ON o.channel_id = 42 AND o.number = :prefix || lpad(i::text, 7, '0')",
    "INSERT INTO merchant_orders (order_id, channel_id, reference, merchant_reference, "
    f"created_at, {', '.join(TOTAL_NAMES)}) SELECT o.id, 42, o.number || '--' || :main, :main, "
    f":now, {', '.join('0' for _ in TOTAL_NAMES)} FROM generate_series(:lo, :hi) i "
    "JOIN orders o ON o.channel_id = 42 AND o.number = :prefix || lpad(i::text, 7, '0')",
    "INSERT INTO merchant_order_items (merchant_order_id, order_item_id, reference, state, "
    "process) SELECT mo.id, oi.id, mo.reference || '--' || CAST(oi.omnitron_id AS text), :state, "
    ":process FROM generate_series(:lo, :hi) i JOIN order_items oi ON oi.omnitron_id = :base + i "
    "JOIN merchant_orders mo ON mo.order_id = oi.order_id",
    "INSERT INTO packages (merchant_order_id, order_id, channel_id, number, status, created_at, "
    "updated_at) SELECT mo.id, mo.order_id, 42, mo.reference, CAST(:package_status AS smallint), "
    ":now, :now FROM generate_series(:lo, :hi) i JOIN merchant_orders mo "
    "ON mo.channel_id = 42 AND mo.reference = :prefix || lpad(i::text, 7, '0') || '--' || :main",
    "INSERT INTO package_items (package_id, order_item_id, quantity, status) "
    "SELECT p.id, oi.id, 1, CAST(:package_status AS smallint) FROM generate_series(:lo, :hi) i "
    "JOIN order_items oi ON oi.omnitron_id = :base + i JOIN packages p ON p.order_id = oi.order_id",
    "INSERT INTO shipments (package_id, tracking_number, client, status, created_at, updated_at) "
    "SELECT p.id, 'T', 'bench', CAST(:package_status AS smallint), :now, :now "
    "FROM generate_series(:lo, :hi) i JOIN order_items oi ON oi.omnitron_id = :base + i "
    "JOIN packages p ON p.order_id = oi.order_id",
]


def _seed_chunk(
    engine: Engine, tag: str, base: int, n: range, statuses: tuple[int, int, str], now: datetime
) -> None:
    order_status, package_status, state = statuses
    values = {
        "prefix": f"BPOLL-{tag}-",
        "base": base,
        "lo": n.start,
        "hi": n.stop - 1,
        "main": MAIN,
        "process": MAIN_PROCESS,
        "state": state,
        "order_status": order_status,
        "package_status": package_status,
        "now": now,
    }
    with engine.begin() as c:
        for statement in SEED:
            c.execute(text(statement), values)


def bench_poll(
    *, packages: int, processes: int, threads: int, batch_size: int, stored: int = 0
) -> int:
    """On a database and vhost of its own (cli/scratch.py), never the configured ones."""
    with scratch_services(Settings.from_env(), "bench") as scratch:
        announce("oms bench poll", scratch)
        return _bench_poll(
            scratch,
            packages=packages,
            processes=processes,
            threads=threads,
            batch_size=batch_size,
            stored=stored,
        )


def _bench_poll(
    scratch: Scratch,
    *,
    packages: int,
    processes: int,
    threads: int,
    batch_size: int,
    stored: int,
) -> int:
    url = scratch.database_url
    simulator = OmnitronSimulator()
    simulator.start()
    worker: subprocess.Popen[bytes] | None = None
    sweeper: subprocess.Popen[bytes] | None = None
    # the workers' and the sweeper's log lines, closed in `finally`
    warnings = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        started = time.monotonic()
        _seed(engine, simulator, packages, stored)
        # the simulator's orders (millions of objects at 300,000) live as long as the run: out
        # of the collector's way, or every full collection walks them all in the bench process
        gc.collect()
        gc.freeze()
        with engine.begin() as c:  # planner statistics, as autovacuum keeps them in production
            c.execute(text("ANALYZE"))
        seeded = time.monotonic() - started
        print(
            f"oms bench poll: seeded {packages} packed packages (and {stored} delivered ones, "
            f"not due) in {seeded:.1f} s; "
            f"{processes} poll processes x {threads} threads, batch size {batch_size}"
        )
        env = {
            **os.environ,
            "OMS_DATABASE_URL": url,
            "OMS_BROKER_URL": scratch.broker_url,
            "OMNITRON_URL": simulator.url,
            "OMNITRON_USERNAME": "oms",
            "OMNITRON_PASSWORD": "oms",
            "OMS_LOG_LEVEL": "WARNING",
            "POLL_BATCH_SIZE": str(batch_size),
            "OMS_WORKER_THREADS": str(threads),
        }
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dramatiq",
                "workers.poll",
                "--queues",
                "oms.poll",
                "--processes",
                str(processes),
                "--threads",
                str(threads),
            ],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=warnings,
        )
        # as the Procfile runs it: what a failed publish left in the outbox goes out after 30 s
        sweeper = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "outbox", "sweep", "--loop"],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=warnings,
        )
        _wait_for_consumers(scratch.broker_url, ["oms.poll"], processes)
        simulator.state.log.clear()
        backends = backend_cpu(engine)
        own = time.process_time()
        begin = time.time()
        subprocess.run(
            [sys.executable, "-m", "cli.main", "poll", "run"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        moved = _wait_moved(engine, packages, timeout=max(600, packages / 100))
        own = time.process_time() - own
        database = sum(v - backends.get(k, 0) for k, v in backend_cpu(engine).items())
        with engine.connect() as c:
            last = c.execute(select(func.max(t.packages.c.updated_at))).scalar_one()
            items = t.merchant_order_items.c
            shipped = c.execute(select(func.count()).where(items.state == "shipped")).scalar_one()
            logged = c.execute(select(func.count()).select_from(t.merchant_transition_log))
            log_rows = logged.scalar_one()
            done = c.execute(select(func.count()).where(t.packages.c.status == 800)).scalar_one()
        seconds = last.timestamp() - begin
        calls = sum(1 for r in simulator.state.log if r["path"] == "/api/v1/orders/")
        print(
            f"cycle: {moved} packages shipped in {seconds:.2f} s = {moved / seconds:.0f} packages/s"
        )
        print(
            f"omnitron: {calls} order reads = {calls / packages:.4f} calls per package "
            f"(1 per {packages / max(calls, 1):.1f} packages)"
        )
        print(
            f"merchant: {shipped} merchant order items shipped, {log_rows} merchant log rows; "
            f"{done} delivered packages (not due) left as they were"
        )
        warnings.seek(0)  # before the workers are stopped (they warn as they stop)
        text_ = warnings.read().decode(errors="replace")
        lines = [line for line in text_.splitlines() if re.search("warn|error", line, re.I)]
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        print(
            f"cpu: poll workers {workers:.1f} s, PostgreSQL backends {database:.1f} s, "
            f"bench process (simulator) {own:.1f} s"
        )
        print(f"worker warnings: {len(lines)}", *lines[:3], sep="\n  ")
        engine.dispose()
        return 0
    finally:
        for process in (worker, sweeper):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, 15)
                process.wait(timeout=60)
        warnings.close()
        simulator.stop()
        gc.unfreeze()


def _wait_moved(engine: Engine, expected: int, timeout: float = 600) -> int:
    deadline = time.monotonic() + timeout
    moved: Any = 0
    while time.monotonic() < deadline:
        with engine.connect() as c:
            moved = c.execute(select(func.count()).where(t.packages.c.status == 700)).scalar_one()
        if moved >= expected:
            return int(moved)
        # the count reads every package: not too often, its backend's CPU is in the figures
        # (the cycle's end is the last package's updated_at, not the time this loop sees it)
        pause(2)
    raise TimeoutError(f"only {moved} of {expected} packages moved in {timeout:.0f} s")
