"""`oms bench poll --packages N`: one poll cycle over N packed packages on the real services.
It makes a database and a vhost of its own (never the configured ones; cli/scratch.py), seeds
N packed packages with bulk inserts into the pipeline's own tables (the per-order repository
path would take minutes at this size), registers their orders in an in-process Omnitron
simulator with every item at 500, runs the poll workers as `dramatiq` subprocesses, starts one
cycle and reports packages/s, Omnitron calls per package and the cycle's duration."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.settings import Settings
from benchmarks.ingest import _wait_for_consumers
from cli.scratch import Scratch, scratch_services
from domain.model import TOTAL_NAMES

CHUNK = 2000


def _seed(engine: Engine, simulator: OmnitronSimulator, count: int) -> None:
    now = datetime.now(UTC)
    tag, base = uuid.uuid4().hex[:6].upper(), random.randrange(10**11, 10**12)
    with engine.begin() as c:
        c.execute(
            insert(t.channels),
            [{"id": 42, "name": "Trendyol", "channel_type": "trendyol", "created_at": now}],
        )
    zero = dict.fromkeys(TOTAL_NAMES, 0)
    for start in range(0, count, CHUNK):
        n = range(start, min(count, start + CHUNK))
        numbers = [f"BPOLL-{tag}-{i:07d}" for i in n]
        with engine.begin() as c:
            order_ids = (
                c.execute(
                    insert(t.orders).returning(t.orders.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "channel_id": 42,
                            "number": number,
                            "status": 450,
                            "currency": "try",
                            "date_placed": now,
                            "extra": {},
                            "split": True,
                            "received_at": now,
                            **zero,
                        }
                        for number in numbers
                    ],
                )
                .scalars()
                .all()
            )
            item_ids = (
                c.execute(
                    insert(t.order_items).returning(
                        t.order_items.c.id, sort_by_parameter_order=True
                    ),
                    [
                        {
                            "order_id": o,
                            "omnitron_id": base + i,
                            "sku": "S",
                            "name": "N",
                            "merchant_reference": "MAIN",
                            "quantity": 1,
                            "price": 100,
                            "tax_rate": "20",
                            "discount_amount": 0,
                            "status": 450,
                            "extra": {},
                        }
                        for o, i in zip(order_ids, n, strict=True)
                    ],
                )
                .scalars()
                .all()
            )
            mo_ids = (
                c.execute(
                    insert(t.merchant_orders).returning(
                        t.merchant_orders.c.id, sort_by_parameter_order=True
                    ),
                    [
                        {
                            "order_id": o,
                            "channel_id": 42,
                            "reference": f"{number}--MAIN",
                            "merchant_reference": "MAIN",
                            "created_at": now,
                            **zero,
                        }
                        for o, number in zip(order_ids, numbers, strict=True)
                    ],
                )
                .scalars()
                .all()
            )
            package_ids = (
                c.execute(
                    insert(t.packages).returning(t.packages.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "merchant_order_id": m,
                            "order_id": o,
                            "channel_id": 42,
                            "number": f"{number}--MAIN",
                            "status": 500,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for m, o, number in zip(mo_ids, order_ids, numbers, strict=True)
                    ],
                )
                .scalars()
                .all()
            )
            c.execute(
                insert(t.package_items),
                [
                    {"package_id": p, "order_item_id": i, "quantity": 1, "status": 500}
                    for p, i in zip(package_ids, item_ids, strict=True)
                ],
            )
            c.execute(
                insert(t.shipments),
                [
                    {
                        "package_id": p,
                        "tracking_number": "T",
                        "client": "bench",
                        "status": 500,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for p in package_ids
                ],
            )
        with simulator.state.lock:  # Omnitron already says: shipped
            for number, i in zip(numbers, n, strict=True):
                simulator.state.orders[number] = {
                    "number": number,
                    "status": "500",
                    "items": [{"id": base + i, "status": "500"}],
                }
                simulator.state.item_order[base + i] = number


def bench_poll(*, packages: int, processes: int, threads: int, batch_size: int) -> int:
    """On a database and vhost of its own (cli/scratch.py), never the configured ones."""
    with scratch_services(Settings.from_env(), "bench") as scratch:
        print(
            f"oms bench poll: scratch database {scratch.database} and vhost {scratch.vhost} "
            "on the configured servers (removed at the end)"
        )
        return _bench_poll(
            scratch, packages=packages, processes=processes, threads=threads, batch_size=batch_size
        )


def _bench_poll(
    scratch: Scratch, *, packages: int, processes: int, threads: int, batch_size: int
) -> int:
    url = scratch.database_url
    simulator = OmnitronSimulator()
    simulator.start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        started = time.monotonic()
        _seed(engine, simulator, packages)
        seeded = time.monotonic() - started
        print(
            f"oms bench poll: seeded {packages} packed packages in {seeded:.1f} s; "
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
            stderr=subprocess.DEVNULL,
        )
        _wait_for_consumers(scratch.broker_url, ["oms.poll"], processes)
        simulator.state.log.clear()
        begin = time.time()
        subprocess.run(
            [sys.executable, "-m", "cli.main", "poll", "run"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        moved = _wait_moved(engine, packages)
        with engine.connect() as c:
            last = c.execute(select(func.max(t.packages.c.updated_at))).scalar_one()
        seconds = last.timestamp() - begin
        calls = sum(1 for r in simulator.state.log if r["path"] == "/api/v1/orders/")
        print(
            f"cycle: {moved} packages shipped in {seconds:.2f} s = {moved / seconds:.0f} packages/s"
        )
        print(
            f"omnitron: {calls} order reads = {calls / packages:.4f} calls per package "
            f"(1 per {packages / max(calls, 1):.1f} packages)"
        )
        engine.dispose()
        return 0
    finally:
        if worker is not None:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=60)
        simulator.stop()


def _wait_moved(engine: Engine, expected: int, timeout: float = 600) -> int:
    deadline = time.monotonic() + timeout
    moved: Any = 0
    while time.monotonic() < deadline:
        with engine.connect() as c:
            moved = c.execute(select(func.count()).where(t.packages.c.status == 700)).scalar_one()
        if moved >= expected:
            return int(moved)
        time.sleep(0.5)
    raise TimeoutError(f"only {moved} of {expected} packages moved in {timeout:.0f} s")
