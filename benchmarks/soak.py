"""`oms bench ingest --soak`: memory over a long stream (issue 12, target 3). Generated orders go
through the real ingest and split stages, each in a worker group of its own (`oms worker ingest
--processes 1`, `oms worker split --processes 1`), published at the pace the pipeline commits
(at most `window` orders published and not yet split), and every `every` messages a stage has
processed (committed) the resident set of that stage's consuming process is read from
/proc/PID/status. dramatiq's main process forks the worker that consumes: that child is sampled,
not the parent. On a database and vhost of its own (cli/scratch.py), removed at the end."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from adapters.messaging.broker import build_broker
from adapters.messaging.publisher import INGEST, publish
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.settings import Settings
from benchmarks.ingest import _wait_for_consumers
from cli.generate import generate_orders
from cli.scratch import Scratch, announce, pause, scratch_services

STAGES = ("ingest", "split")
CHUNK = 500  # orders generated at a time (a 300k stream is never held in memory)
STALL_SECONDS = 300  # no progress for this long: the soak fails instead of hanging


def rss_mib(pid: int) -> float:
    """VmRSS of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ProcessLookupError(f"no VmRSS for pid {pid}")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def consumer_pid(group: int, timeout: float = 60) -> int:
    """The worker process dramatiq's main process forked (the one with the worker threads; a
    fork such as a metrics server has one or two)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(group)
        if kids:
            return max(kids, key=_threads)
        pause(0.2)
    raise TimeoutError(f"dramatiq main process {group} forked no worker")


def short(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


@dataclass
class Table:
    every: int
    total: int
    rows: dict[int, dict[str, float]] = field(default_factory=dict)

    def marks(self) -> list[int]:
        marks = list(range(self.every, self.total + 1, self.every))
        return marks if marks and marks[-1] == self.total else [*marks, self.total]

    def take(self, stage: str, processed: int, pid: int) -> list[str]:
        """Sample `stage` at every mark it has passed; return the rows now complete."""
        complete = []
        for mark in self.marks():
            row = self.rows.setdefault(mark, {})
            if processed >= mark and stage not in row:
                row[stage] = rss_mib(pid)
                if len(row) == len(STAGES):
                    complete.append(self.line(mark))
        return complete

    @staticmethod
    def header() -> str:
        return "messages processed | ingest RSS MiB | split RSS MiB"

    def line(self, mark: int) -> str:
        row = self.rows[mark]
        return f"{mark:>18,} | {row['ingest']:>14.1f} | {row['split']:>13.1f}"

    def growth(self) -> str:
        first, last = self.marks()[0], self.marks()[-1]
        grew = {s: (self.rows[last][s] / self.rows[first][s] - 1) * 100 for s in STAGES}
        return (
            f"RSS growth {short(first)}→{short(last)}: ingest {grew['ingest']:+.1f} %, "
            f"split {grew['split']:+.1f} % (target ≤ 10 %)"
        )


def _group(stage: str, threads: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "cli.main", "worker", stage, "--processes", "1"]
    return subprocess.Popen(
        [*argv, "--threads", str(threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        ingested, split = c.execute(
            select(func.count(), func.count().filter(t.orders.c.split))
        ).one()
    return {"ingest": int(ingested), "split": int(split)}


def bench_soak(*, messages: int, every: int, window: int, threads: int) -> int:
    """On a database and vhost of its own (cli/scratch.py), never the configured ones."""
    with scratch_services(Settings.from_env(), "bench") as scratch:
        announce("oms bench ingest --soak", scratch)
        return soak(scratch, messages=messages, every=every, window=window, threads=threads)


def soak(scratch: Scratch, *, messages: int, every: int, window: int, threads: int) -> int:
    upgrade(scratch.database_url)
    engine = make_engine(scratch.database_url, pool_size=1)
    env = {
        **os.environ,
        "OMS_DATABASE_URL": scratch.database_url,
        "OMS_BROKER_URL": scratch.broker_url,
        "OMS_LOG_LEVEL": "WARNING",
    }
    for stale in ("OMS_METRICS_DIR", "OMS_METRICS_FD"):
        env.pop(stale, None)
    print(
        f"oms bench ingest --soak: {messages} orders through oms.ingest and oms.split, one "
        f"worker process per stage x {threads} threads, at most {window} orders in flight; "
        f"RSS of each stage's consuming process every {every} messages",
        flush=True,
    )
    groups = {stage: _group(stage, threads, env) for stage in STAGES}
    try:
        _wait_for_consumers(scratch.broker_url, ["oms.ingest", "oms.split"], 1)
        pids = {stage: consumer_pid(group.pid) for stage, group in groups.items()}
        table = Table(every, messages)
        print(table.header(), flush=True)
        started = time.monotonic()
        _stream(engine, scratch.broker_url, table, pids, groups, window)
        seconds = time.monotonic() - started
        print(table.growth())
        print(
            f"{messages} orders ingested and split in {seconds:.0f} s = {messages / seconds:.1f}/s"
        )
    finally:
        for group in groups.values():
            os.killpg(group.pid, 15)
        for group in groups.values():
            group.wait(timeout=60)
        engine.dispose()
    return 0


def _stream(
    engine: Engine,
    broker_url: str,
    table: Table,
    pids: dict[str, int],
    groups: dict[str, subprocess.Popen[bytes]],
    window: int,
) -> None:
    broker = build_broker(broker_url, [])
    tag, base = f"{random.randrange(16**6):06X}", random.randrange(10**11, 10**12)
    published, pending = 0, list[dict[str, Any]]()
    progress, last_progress = -1, time.monotonic()
    try:
        while True:
            counts = _counts(engine)
            for stage in STAGES:
                for line in table.take(stage, counts[stage], pids[stage]):
                    print(line, flush=True)
            if counts["split"] >= table.total:
                return
            if sum(counts.values()) != progress:
                progress, last_progress = sum(counts.values()), time.monotonic()
            elif time.monotonic() - last_progress > STALL_SECONDS:
                raise TimeoutError(f"no progress for {STALL_SECONDS} s at {counts}")
            for stage, group in groups.items():
                if group.poll() is not None:
                    raise RuntimeError(f"the {stage} worker group exited ({group.returncode})")
            room = min(window - (published - counts["split"]), table.total - published, CHUNK)
            if room <= 0:  # the count is a scan of every order: not more than twice a second
                pause(0.5)
                continue
            for _ in range(room):
                if not pending:
                    chunk = published // CHUNK
                    pending = generate_orders(
                        CHUNK, prefix=f"SOAK-{tag}-{chunk:05d}", seed=chunk,
                        first_item_id=base + published * 4,
                    )  # fmt: skip
                    pending.reverse()
                publish(broker, *INGEST, pending.pop())
                published += 1
    finally:
        broker.close()
