"""A small load generator for the HTTP API on loopback: wrk when it is installed (`apt-get
install wrk`; `oms bench api` is the full benchmark, issue 22), else N Python threads, one
keep-alive connection each, for a bounded time; prints requests/s, status counts and latency
percentiles. It reads the
merchant portal's merchant order page, `GET /api/v1/merchant/orders/{reference}/`.

Self-contained (a scratch database and vhost of its own, cli/scratch.py, removed at the end: one
order of docs/examples/order-two-merchants.json stored and split, a merchant key for MER000002,
`oms api --workers N` on a free loopback port):

    OMS_DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/postgres \
    OMS_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/%2F \
    python benchmarks/api_load.py --scratch --seconds 10

Against a running API: `--url URL --key KEY --reference TY-100042--MER000002` (or `--path`).
The lead measures on a quiet machine; on a shared one the figures mean little."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(url: str, path: str, key: str, until: float, latencies: list[float],
           statuses: Counter[int], lock: threading.Lock) -> None:  # fmt: skip
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
    headers = {"Authorization": f"Token {key}", "Connection": "keep-alive"}
    mine: list[float] = []
    seen: Counter[int] = Counter()
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            answer = connection.getresponse()
            answer.read()
            seen[answer.status] += 1
        except (OSError, http.client.HTTPException):
            seen[0] += 1
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
            continue
        mine.append(time.perf_counter() - started)
    connection.close()
    with lock:
        latencies.extend(mine)
        statuses.update(seen)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def run_load(url: str, path: str, key: str, threads: int, seconds: float) -> int:
    """wrk when it is installed (benchmarks/wrk.py: a C client, one connection per thread
    here too); else this module's Python threads, which share the cores with the server and
    so measure themselves as much as it."""
    if shutil.which("wrk") is not None:
        from benchmarks.wrk import run_wrk

        load = run_wrk(url + path, key, threads=min(threads, 2), connections=threads,
                       seconds=max(1, round(seconds)))  # fmt: skip
        print(f"GET {path} (wrk -t{min(threads, 2)} -c{threads} -d{max(1, round(seconds))}s)")
        print(f"{load.requests} requests: {load.requests_per_second:.0f} req/s")
        print(f"non-2xx: {load.non_2xx}, socket errors: {load.socket_errors}")
        print(f"latency ms: p50 {load.p50_ms:.1f}, p99 {load.p99_ms:.1f}")
        return 0 if load.non_2xx == 0 and load.socket_errors == 0 else 1
    print("wrk not found (apt-get install wrk): Python threads generate the load")
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    until = time.monotonic() + seconds
    workers = [
        threading.Thread(target=worker, args=(url, path, key, until, latencies, statuses, lock))
        for _ in range(threads)
    ]
    started = time.monotonic()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    took = time.monotonic() - started
    done = len(latencies)
    print(f"GET {path}")
    print(f"{done} requests in {took:.1f} s with {threads} threads: {done / took:.0f} req/s")
    print("statuses: " + ", ".join(f"{s or 'error'}: {n}" for s, n in sorted(statuses.items())))
    print(
        f"latency ms: p50 {percentile(latencies, 0.5) * 1000:.1f}, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f}, max {max(latencies or [0]) * 1000:.1f}"
    )
    return 0 if statuses and set(statuses) <= {200} else 1


def seed(database_url: str) -> tuple[str, str]:
    """Migrate, store and split one two-merchant order; (merchant order reference, key)."""
    from adapters.persistence.api_tokens import MERCHANT, create_token
    from adapters.persistence.engine import make_engine
    from adapters.persistence.migrate import upgrade
    from adapters.persistence.unit_of_work import SqlUnitOfWork
    from domain import services
    from schemas.convert import parse_inbound_order

    upgrade(database_url)
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text("utf-8"))
    body["number"] = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
    base = random.randrange(10**11, 10**12)
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
    engine = make_engine(database_url, pool_size=1)
    try:
        order = parse_inbound_order(body, "MAIN")
        ingested = services.ingest_order(order, SqlUnitOfWork(engine))
        assert ingested.order_id is not None
        services.split_order(ingested.order_id, SqlUnitOfWork(engine))
        _, key = create_token(
            engine, kind=MERCHANT, name="api-load", merchant_reference="MER000002"
        )
    finally:
        engine.dispose()
    return f"{body['number']}--MER000002", key


@contextlib.contextmanager
def api_server(
    database_url: str, broker_url: str, workers: int, tree: Path = ROOT
) -> Iterator[str]:
    """`oms api --workers N` on a free loopback port, from `tree` (this checkout, or another
    one's code: `oms bench api --api-tree`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "OMS_DATABASE_URL": database_url, "OMS_BROKER_URL": broker_url,
           "OMS_LOG_LEVEL": "WARNING", "PYTHONPATH": str(tree)}  # fmt: skip
    argv = [sys.executable, "-m", "cli.main", "api", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        argv, env=env, cwd=tree, stdout=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(process, port, "/healthz", "oms api")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def scratch_run(threads: int, seconds: float, workers: int) -> int:
    from adapters.settings import Settings
    from cli.scratch import scratch_services

    with scratch_services(Settings.from_env(), "apiload") as scratch:
        print(f"scratch database {scratch.database}, vhost {scratch.vhost} (removed at the end)")
        reference, key = seed(scratch.database_url)
        with api_server(scratch.database_url, scratch.broker_url, workers) as url:
            print(f"oms api --workers {workers} at {url}")
            path = f"/api/v1/merchant/orders/{quote(reference, safe='')}/"
            return run_load(url, path, key, threads, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--scratch",
        action="store_true",
        help="make its own database, vhost, data, key and API; remove them after",
    )
    parser.add_argument("--workers", type=int, default=2, help="API processes (--scratch)")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--reference", help="a merchant order of the key's merchant")
    parser.add_argument("--path", help="another path to read instead")
    parser.add_argument("--key", help="an API key (never printed)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="at most 300")
    args = parser.parse_args()  # fmt: skip
    seconds = min(max(args.seconds, 1.0), 300.0)
    if args.scratch:
        return scratch_run(args.threads, seconds, max(1, args.workers))
    if not args.key or not (args.reference or args.path):
        parser.error("give --scratch, or --key with --reference (or --path)")
    path = args.path or f"/api/v1/merchant/orders/{quote(args.reference, safe='')}/"
    return run_load(args.url, path, args.key, args.threads, seconds)


if __name__ == "__main__":
    raise SystemExit(main())


def wait_answering(process: subprocess.Popen[bytes], port: int, path: str, what: str) -> None:
    """Until GET `path` on `port` answers 200; a process that exits first, or 60 s without an
    answer, ends the benchmark naming `what`."""
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited before it answered")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not answer within 60 s")
        time.sleep(0.2)
