"""`oms bench ingest`: orders/s and publish-to-commit latency of the ingest -> split pipeline
on the real services, against a no-op dramatiq chain with the same hops measured in the same
run. Workers run as `dramatiq` subprocesses, as in production, on a database and vhost made
for the run (never the configured ones) and dropped after it."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import pika
from sqlalchemy import Engine, func, select

from adapters.messaging.broker import build_broker
from adapters.messaging.publisher import INGEST, publish
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.queries.reservations import verify_reservations
from adapters.settings import Settings
from benchmarks import cpu
from benchmarks import profile as profiling
from cli.generate import generate_orders
from cli.scratch import Scratch, announce, pause, scratch_services

PUBLISHER_THREADS = 4
# Messages each phase sends first, at its rate, waits for and does not measure: the first
# messages of freshly started workers pay the processes' cold start (connections, statements
# compiled on first use), which long-running workers do not. Without it the paced phase's
# p99 was the first half second (every one of its 12 worst latencies, 560-740 ms, within
# 0.6 s of the first publish; p50 130 ms). A phase of fewer messages warms up with as many.
WARM_UP = 100
# Rounds of (pipeline, no-op chain) in one run, the ratio their median. On the 2-vCPU VM this is
# measured on, one round's ratio ranged 0.32-0.70 within one hour (2026-12-06, 13 runs of the
# same code): the per-message CPU cost of either phase swings by up to 2x from one few-second
# phase to the next, whichever runs. Alternating rounds and taking the median is less swayed by
# one slow phase than a single pair; each round's ratio is printed.
# Rounds run on warm worker groups started once (both kept running): see _bench_ingest.
ROUNDS = 5
# A phase of a round repeats batches of --orders until they took this long together: at 3000
# orders the no-op chain's batch took 2.3 s and the pipeline's 5 s, and such short phases swung
# a run's rounds by ±0.09 of their median (2026-12-07, loaded machine).
MIN_SECONDS = 15.0


@dataclass
class Run:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    profile: Path | None = None
    usage: cpu.Usage | None = None

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        return (
            f"{self.name:>14}: {self.count} in {self.seconds:.2f} s = {self.rate:7.1f}/s, "
            f"latency p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        ) + ("" if self.usage is None else f"\n{'':>16}{self.usage.per_message(self.count)}")


def _workers(
    module: str, processes: int, threads: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dramatiq",
            module,
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for_consumers(url: str, queues: list[str], wanted: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        while time.monotonic() < deadline:
            counts = []
            for queue in queues:
                channel = connection.channel()
                try:
                    counts.append(channel.queue_declare(queue, passive=True).method.consumer_count)
                    channel.close()
                except pika.exceptions.ChannelClosedByBroker:
                    counts.append(0)
            if min(counts) >= wanted:
                return
            pause(0.2)
    finally:
        connection.close()
    raise TimeoutError(f"workers did not attach to {queues}")


def _publish_all(
    url: str, queue: str, actor: str, bodies: list[tuple[str, Any]], rate: float | None
) -> dict[str, float]:
    """Publish with confirms from a few threads; returns publish time per key."""
    broker = build_broker(url, [])
    sent: dict[str, float] = {}
    start = time.time()
    interval = None if rate is None else PUBLISHER_THREADS / rate

    def worker(share: list[tuple[str, Any]]) -> None:
        for index, (key, body) in enumerate(share):
            if interval is not None:
                time.sleep(max(0.0, start + index * interval - time.time()))
            sent[key] = time.time()
            publish(broker, queue, actor, body)

    shares = [bodies[i::PUBLISHER_THREADS] for i in range(PUBLISHER_THREADS)]
    with ThreadPoolExecutor(PUBLISHER_THREADS) as pool:
        list(pool.map(worker, shares))
    broker.close()
    return sent


@dataclass
class Finished:
    """How a phase knows it is over: `count` is cheap and asked every quarter second; `collect`
    (each message's completion time) runs once, at the end. Asking for the times at every poll
    made the bench's own queries grow with the run (a join over every stored order and package
    four times a second), on the cores and in the PostgreSQL the pipeline is measured on."""

    count: Callable[[], int]
    collect: Callable[[], dict[str, float]]


def _wait(done: Finished, expected: int, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done.count() >= expected:
            return done.collect()
        pause(0.25)
    raise TimeoutError(f"only {done.count()} of {expected} finished in {timeout:.0f} s")


def _pipeline_done(engine: Engine, prefix: str) -> Finished:
    """An order is done once split: its packages are committed with its split mark."""

    def count() -> int:
        with engine.connect() as connection:
            query = select(func.count()).where(
                t.orders.c.number.startswith(prefix), t.orders.c.split
            )
            return int(connection.execute(query).scalar_one())

    def collect() -> dict[str, float]:
        with engine.connect() as connection:
            rows = connection.execute(
                select(t.orders.c.number, func.max(t.packages.c.created_at))
                .join(t.packages, t.packages.c.order_id == t.orders.c.id)
                .where(t.orders.c.number.startswith(prefix), t.orders.c.split)
                .group_by(t.orders.c.number)
            ).all()
        return {number: when.timestamp() for number, when in rows}

    return Finished(count, collect)


def _noop_done(folder: Path, tag: str) -> Finished:
    def collect() -> dict[str, float]:
        finished = {}
        for path in folder.glob("noop-done-*.log"):
            for line in path.read_text().splitlines():
                key, _, when = line.partition(" ")
                if when and key.startswith(tag):
                    finished[key] = float(when)
        return finished

    return Finished(lambda: len(collect()), collect)


def _measure(name: str, sent: dict[str, float], finished: dict[str, float]) -> Run:
    first = min(sent.values())
    last = max(finished[k] for k in sent)
    return Run(name, len(sent), last - first, [finished[k] - sent[k] for k in sent])


@dataclass
class Stage:
    """One kind of worker group (the pipeline, or the no-op chain) and how to feed it: what it
    consumes, where to publish, how to make a batch of bodies and know when they are done."""

    name: str
    module: str
    queues: list[str]
    target: tuple[str, str]
    batch: Callable[[int, str], tuple[list[tuple[str, Any]], Finished]]  # (count, label)
    database: Engine | None


def _started(
    stage: Stage,
    env: dict[str, str],
    processes: int,
    threads: int,
    rate: float | None,
    warm_up: int = WARM_UP,
) -> subprocess.Popen[bytes]:
    """The stage's workers, attached and past their cold start (warm-up messages sent, waited
    for, not measured)."""
    workers = _workers(stage.module, processes, threads, env)
    try:
        _wait_for_consumers(env["OMS_BROKER_URL"], stage.queues, processes)
        warm_bodies, warm_done = stage.batch(warm_up, "warm")
        _publish_all(env["OMS_BROKER_URL"], *stage.target, warm_bodies, rate)
        _wait(warm_done, len(warm_bodies), timeout=600)
    except BaseException:
        _stop(workers)
        raise
    return workers


def _stop(workers: subprocess.Popen[bytes]) -> None:
    os.killpg(workers.pid, 15)
    workers.wait(timeout=60)


def _measured(
    stage: Stage,
    workers: subprocess.Popen[bytes],
    env: dict[str, str],
    count: int,
    rate: float | None,
    name: str,
    profile: profiling.Profile | None = None,
    min_seconds: float = 0.0,
) -> Run:
    """Batches of `count` on running workers, one after the other, until their measured time
    (first publish to last completion, per batch) adds up to `min_seconds`; the rate is their
    messages over that time. One batch when min_seconds is 0."""
    recording, recorded = None, None
    if profile is not None:  # the workers have forked: py-spy follows them from the main one
        recording = profiling.start(workers.pid, profile, name)
    runs: list[Run] = []
    try:
        meter = cpu.Meter(workers.pid, stage.database)
        while not runs or sum(r.seconds for r in runs) < min_seconds:
            bodies, done = stage.batch(count, "run")
            sent = _publish_all(env["OMS_BROKER_URL"], *stage.target, bodies, rate)
            runs.append(_measure(name, sent, _wait(done, len(bodies), timeout=600)))
        usage = meter.stop()
    finally:
        if recording is not None:
            recorded = profiling.stop(recording)
    run = Run(
        name,
        sum(r.count for r in runs),
        sum(r.seconds for r in runs),
        [latency for r in runs for latency in r.latencies],
    )
    run.profile, run.usage = recorded, usage
    return run


def bench_ingest(
    *,
    orders: int,
    processes: int,
    threads: int,
    profile: profiling.Profile | None = None,
    latency_orders: int | None = None,
    rounds: int = ROUNDS,  # the one default: `oms bench ingest` passes it when not told
    min_seconds: float = MIN_SECONDS,
) -> int:
    """On a database and vhost of its own (cli/scratch.py), never the configured ones."""
    with scratch_services(Settings.from_env(), "bench") as scratch:
        announce("oms bench ingest", scratch)
        return _bench_ingest(
            scratch,
            orders=orders,
            processes=processes,
            threads=threads,
            profile=profile,
            latency_orders=latency_orders or max(100, orders // 4),
            rounds=rounds,
            min_seconds=min_seconds,
        )


def _bench_ingest(
    scratch: Scratch,
    *,
    orders: int,
    processes: int,
    threads: int,
    latency_orders: int,
    rounds: int,
    profile: profiling.Profile | None = None,
    min_seconds: float = MIN_SECONDS,
) -> int:
    upgrade(scratch.database_url)
    engine = make_engine(scratch.database_url, pool_size=2)
    folder = Path(tempfile.mkdtemp(prefix="oms-bench-"))
    env = {
        **os.environ,
        "OMS_DATABASE_URL": scratch.database_url,
        "OMS_BROKER_URL": scratch.broker_url,
        "OMS_LOG_LEVEL": "WARNING",
        "OMS_WORKER_THREADS": str(threads),
        "OMS_BENCH_DIR": str(folder),
    }
    print(
        f"oms bench ingest: {orders} orders, {processes} worker processes x {threads} threads, "
        f"{PUBLISHER_THREADS} publisher threads with confirms; each phase first sends up to "
        f"{WARM_UP} warm-up messages (no more than it measures) and does not measure them; "
        f"{rounds} round(s) of pipeline then no-op chain on warm workers, each phase batches of "
        f"{orders} until {min_seconds:.0f} s of measured time, the ratio their median"
    )
    if profile is not None:
        note = profiling.ptrace_note()
        print("profiled with py-spy: the pipeline's figures are not comparable")
        if note:
            print(f"warning: {note}")

    def pipeline_batch(count: int, label: str) -> tuple[list[tuple[str, Any]], Finished]:
        tag = f"{label.upper()}{random.randrange(16**6):06X}"
        prefix, first_item = f"BENCH-{tag}", random.randrange(10**11, 10**12)
        bodies = generate_orders(count, prefix=prefix, seed=count, first_item_id=first_item)
        return [(b["number"], b) for b in bodies], _pipeline_done(engine, prefix)

    def noop_batch(count: int, label: str) -> tuple[list[tuple[str, Any]], Finished]:
        tag = f"{label}-{random.randrange(16**6):06X}"
        bodies = [(f"{tag}-{i}", {"key": f"{tag}-{i}"}) for i in range(count)]
        return bodies, _noop_done(folder, tag)

    pipeline_stage = Stage(
        "pipeline", "workers.actors", [INGEST[0], "oms.split"], INGEST, pipeline_batch, engine
    )
    noop_stage = Stage(
        "no-op chain",
        "benchmarks.noop_actors",
        ["bench.noop.first", "bench.noop.second"],
        ("bench.noop.first", "noop_first"),
        noop_batch,
        None,
    )
    try:
        # Both worker groups run through every round (an idle group waits on its queues and
        # costs next to nothing), so a round is two back-to-back batches on warm workers, not
        # two cold starts: the machine's slow and fast spells fall on both phases alike.
        warm = min(WARM_UP, orders)  # a phase of fewer messages warms up with as many
        pipeline_workers = _started(pipeline_stage, env, processes, threads, None, warm)
        try:
            noop_workers = _started(noop_stage, env, processes, threads, None, warm)
            try:
                pairs: list[tuple[Run, Run]] = []
                for number in range(1, rounds + 1):
                    pipeline = _measured(
                        pipeline_stage, pipeline_workers, env, orders, None, "pipeline",
                        profile if number == 1 else None, min_seconds,
                    )  # fmt: skip
                    print(pipeline.line())
                    if profile is not None and pipeline.profile is not None:
                        print(
                            f"py-spy ({profile.mode}) over the pipeline phase: {pipeline.profile}"
                        )
                        print("\n".join(profiling.top(pipeline.profile, profile.form)))
                    noop = _measured(
                        noop_stage, noop_workers, env, orders, None, "no-op chain", None,
                        min_seconds,
                    )  # fmt: skip
                    print(noop.line())
                    pairs.append((pipeline, noop))
                    if rounds > 1:
                        print(f"round {number}: ratio {pipeline.rate / noop.rate:.2f}")
            finally:
                _stop(noop_workers)
        finally:
            _stop(pipeline_workers)
        ratios = [p.rate / n.rate for p, n in pairs]
        pipeline_rate = median(p.rate for p, _ in pairs)
        paced = max(10.0, pipeline_rate / 2)
        latency_workers = _started(
            pipeline_stage, env, processes, threads, paced, min(WARM_UP, latency_orders)
        )
        try:
            latency = _measured(
                pipeline_stage, latency_workers, env, latency_orders, paced, f"at {paced:.0f}/s"
            )
        finally:
            _stop(latency_workers)
        print(latency.line() + "  (pipeline latency at half its throughput)")
        # what the concurrent splits stored, checked against the items (spec 9.5)
        differ = verify_reservations(engine)
        print(f"reservations: {len(differ)} offer(s) differ from their items after the run")
        for difference in differ[:10]:
            print(f"  {difference.line()}")
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    spread = max(abs(r - median(ratios)) for r in ratios)
    each = (
        ""
        if rounds == 1
        else f"median of {rounds} rounds: {' '.join(f'{r:.2f}' for r in ratios)}; "
    )
    agree = f"; rounds within ±{spread:.2f} of it" if rounds > 1 else ""
    print(
        f"ratio {median(ratios):.2f} ({each}pipeline {pipeline_rate:.1f} orders/s, "
        f"no-op chain {median(n.rate for _, n in pairs):.1f} orders/s){agree}"
    )
    return 0
