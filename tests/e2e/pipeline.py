"""Drives the real pipeline as subprocesses (dramatiq workers, the outbox sweeper, the oms CLI)
against real PostgreSQL and RabbitMQ, and checks the stored result exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from domain.model import TOTAL_NAMES
from domain.splitting import marketplace_expenses
from domain.totals import totals_of
from schemas.convert import parse_inbound_order

ROOT = Path(__file__).resolve().parents[2]


class Pipeline:
    def __init__(self, database_url: str, broker_url: str, log_dir: Path, threads: int = 4,
                 omnitron_url: str = "http://127.0.0.1:9") -> None:  # fmt: skip
        self.env = {
            **os.environ,
            "OMS_DATABASE_URL": database_url,
            "OMS_BROKER_URL": broker_url,
            "OMNITRON_URL": omnitron_url,
            "OMNITRON_USERNAME": "oms",
            "OMNITRON_PASSWORD": "oms",
            "OMS_LOG_LEVEL": "INFO",
            "OMS_WORKER_THREADS": str(threads),
            "PYTHONPATH": str(ROOT),
        }
        self.threads = threads
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.starts = 0

    def _spawn(self, name: str, argv: list[str]) -> None:
        self.starts += 1
        log = open(self.log_dir / f"{name}-{self.starts}.log", "wb")  # noqa: SIM115
        self.processes[name] = subprocess.Popen(
            argv,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_workers(self, queues: list[str] | None = None) -> None:
        only = ["--queues", *queues] if queues else []
        self._spawn(
            "workers",
            [
                sys.executable,
                "-m",
                "dramatiq",
                "workers.actors",
                "--processes",
                "1",
                "--threads",
                str(self.threads),
                *only,
            ],
        )

    def start_poll_workers(self, name: str = "poll") -> None:
        self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "dramatiq",
                "workers.poll",
                "--processes",
                "1",
                "--threads",
                str(self.threads),
            ],
        )

    def start_scheduler(self, name: str = "scheduler") -> None:
        self._spawn(name, [*self.oms, "scheduler"])

    def start_sweeper(self) -> None:
        self._spawn(
            "sweeper",
            [*self.oms, "outbox", "sweep", "--loop", "--interval", "0.5", "--older-than", "2"],
        )

    @property
    def oms(self) -> list[str]:
        return [sys.executable, "-m", "cli.main"]

    def run_oms(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.oms, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=check,
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, sig)  # the dramatiq parent and its worker children alike
        process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM every group at once and wait for them together (one after the other, the
        stops added up to seconds per test). A dramatiq group that is still up after 1.5 s has
        finished its messages and only idles through its one-second polls: dramatiq's second
        signal ends its worker processes at once. SIGKILL if nothing else works."""
        running = [p for p in self.processes.values() if p.poll() is None]
        for pause, sig in ((1.5, signal.SIGTERM), (20, signal.SIGTERM), (10, signal.SIGKILL)):
            for process in running:
                os.killpg(process.pid, sig)
            deadline = time.monotonic() + pause
            while running and time.monotonic() < deadline:
                running = [p for p in running if p.poll() is None]
                time.sleep(0.05)
            if not running:
                break
        assert not running, f"still running after SIGKILL: {[p.args for p in running]}"
        self.processes.clear()


def write_json_lines(path: Path, bodies: Iterable[Any]) -> Path:
    path.write_text("".join(json.dumps(body) + "\n" for body in bodies))
    return path


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def split_count(engine: Engine, prefix: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(t.orders)
            .where(t.orders.c.number.startswith(prefix), t.orders.c.split)
        ).scalar_one()


def stored_count(engine: Engine, prefix: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(t.orders).where(t.orders.c.number.startswith(prefix))
        ).scalar_one()


TOTALS = TOTAL_NAMES


def expected_state(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """What the pipeline must store for these bodies, computed by the domain rules."""
    orders, merchant_orders, items = {}, {}, 0
    for body in bodies:
        order = parse_inbound_order(body, "MAIN")
        orders[order.number] = totals_of(order.items, order.expenses).as_dict()
        market = totals_of([], marketplace_expenses(order)).as_dict()
        for merchant in order.merchant_references():
            mine = [i for i in order.items if i.merchant_reference == merchant]
            theirs = [e for e in order.expenses if e.merchant_reference == merchant]
            merchant_orders[f"{order.number}--{merchant}"] = totals_of(mine, theirs).as_dict()
        for name in TOTALS:  # the identity of spec section 4, on the expectation itself
            parts = sum(
                v[name] for k, v in merchant_orders.items() if k.startswith(order.number + "--")
            )
            assert orders[order.number][name] == parts + market[name]
        items += len(order.items)
    return {"orders": orders, "merchant_orders": merchant_orders, "items": items}


def assert_stored_exactly(
    engine: Engine, prefix: str, bodies: list[dict[str, Any]], packages_wait: bool = True
) -> None:
    """Every order once, split once, with exactly the expected totals, merchant orders,
    packages and package items: nothing lost, nothing doubled."""
    expected = expected_state(bodies)
    with engine.connect() as connection:
        orders = connection.execute(
            select(t.orders).where(t.orders.c.number.startswith(prefix))
        ).all()
        merchant_orders = connection.execute(
            select(t.merchant_orders).where(t.merchant_orders.c.reference.startswith(prefix))
        ).all()
        packages = connection.execute(
            select(t.packages.c.number, t.packages.c.status).where(
                t.packages.c.number.startswith(prefix)
            )
        ).all()
        package_items = connection.execute(
            select(func.count())
            .select_from(t.package_items.join(t.packages))
            .where(t.packages.c.number.startswith(prefix))
        ).scalar_one()
    assert len(orders) == len(expected["orders"]), "orders stored"
    assert all(row.split for row in orders), "every order split"
    assert {row.number: {n: getattr(row, n) for n in TOTALS} for row in orders} == expected[
        "orders"
    ]
    assert {
        row.reference: {n: getattr(row, n) for n in TOTALS} for row in merchant_orders
    } == expected["merchant_orders"]
    assert len(merchant_orders) == len(expected["merchant_orders"]), "no merchant order doubled"
    assert sorted(p.number for p in packages) == sorted(expected["merchant_orders"])
    if packages_wait:
        assert {p.status for p in packages} == {100}, "packages wait"
    assert package_items == expected["items"]
