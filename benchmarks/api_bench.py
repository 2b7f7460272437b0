"""`oms bench api` (issue 22): the API's reads under wrk, each as a ratio to a FastAPI floor
served in the same run (benchmarks/api_floor.py: the same body from a handler that does
nothing), with p99 and non-2xx answers, and the SQL statements each read sends.

On a database and vhost of its own (cli/scratch.py, removed at the end): N orders
(benchmarks/api_seed.py), a merchant key and an operator key, `oms api` on W workers and the
floor on W uvicorn workers, both up for the whole run: each as W servers of one worker, with one
wrk per server sent its share of the threads and connections (benchmarks/wrk.py,
`run_wrk_across`: one server of W workers handed most of wrk's keep-alive connections to one
worker in a third of the rounds). For each read and round: wrk on the API, then wrk on the floor
(`wrk -tT -cC -dDs --latency` in all, default -t2 -c16 -d10s). The figures are
the medians of the rounds; the ratio is the median of each round's ratio. wrk is Debian's
package `wrk` (apt-get install wrk); without it the benchmark says so and stops."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.settings import Settings
from benchmarks.api_floor import BODIES
from benchmarks.api_load import api_server, wait_answering
from benchmarks.api_seed import Seeded, seed
from benchmarks.read_statements import count_statements
from benchmarks.wrk import Load, require_wrk, run_wrk_across
from cli.scratch import announce, scratch_services

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Read:
    name: str
    path: str
    key: str
    ratio_target: float
    p99_target_ms: float | None = None


def reads(seeded: Seeded) -> list[Read]:
    return [
        Read(
            "merchant order read",
            f"/api/v1/merchant/orders/{quote(seeded.merchant_order, safe='')}/",
            seeded.merchant_key,
            0.35,
            30.0,
        ),
        Read("order read", f"/api/v1/orders/{seeded.number}/", seeded.operator_key, 0.25),
        Read("merchant order list", "/api/v1/merchant/orders/?limit=20", seeded.merchant_key, 0.25),
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def servers(
    count: int, start: Callable[[], contextlib.AbstractContextManager[str]]
) -> Iterator[list[str]]:
    """`count` servers from `start` (each one worker), up together, stopped together."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(start()) for _ in range(count)]


@contextlib.contextmanager
def floor_server(bodies: Path, workers: int) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, BODIES: str(bodies), "PYTHONPATH": str(ROOT)}
    argv = [
        sys.executable, "-m", "uvicorn", "benchmarks.api_floor:app_factory", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--no-server-header", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True)
    try:
        wait_answering(process, port, "/", "the floor app")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _body(url: str, read: Read) -> str:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", read.path, headers={"Authorization": f"Token {read.key}"})
    answer = connection.getresponse()
    body = answer.read().decode("utf-8")
    if answer.status != 200:
        raise SystemExit(f"GET {read.path} answered {answer.status}: {body[:300]}")
    return body


def _upgrade(database_url: str, tree: Path) -> None:
    """The schema as `tree`'s migrations make it (another checkout: its own schema)."""
    if tree == ROOT:
        upgrade(database_url)
        return
    code = "import sys; from adapters.persistence.migrate import upgrade; upgrade(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-c", code, database_url], env=env, cwd=tree, check=True)


SEED_FILE = ROOT / "benchmarks/api_seed.py"
SEEDING = """import dataclasses, json, runpy, sys
from adapters.persistence.engine import make_engine
engine = make_engine(sys.argv[1], pool_size=2)
seeded = runpy.run_path(sys.argv[3])["seed"](engine, int(sys.argv[2]))
engine.dispose()
print(json.dumps(dataclasses.asdict(seeded)))
"""


def _seed(database_url: str, orders: int, tree: Path) -> Seeded:
    """The orders stored by `tree`'s own use cases (another checkout writes its own schema's
    rows: this checkout's code would expect this checkout's tables). The keys come back on a
    pipe, never printed."""
    if tree == ROOT:
        engine = make_engine(database_url, pool_size=2)
        try:
            return seed(engine, orders)
        finally:
            engine.dispose()
    env = {**os.environ, "PYTHONPATH": str(tree)}
    answer = subprocess.run(
        [sys.executable, "-c", SEEDING, database_url, str(orders), str(SEED_FILE)],
        env=env, cwd=tree, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return Seeded(**json.loads(answer.stdout.strip().splitlines()[-1]))


def bench_api(
    *, orders: int, workers: int, rounds: int, seconds: int, connections: int, threads: int,
    tree: Path = ROOT,
) -> int:  # fmt: skip
    """`tree`: the checkout whose `oms api` (and migrations) are measured, by default this one;
    another (e.g. a clone at the issue's starting commit) for a before/after comparison."""
    require_wrk()
    tree = tree.resolve()
    with scratch_services(Settings.from_env(), "benchapi") as scratch:
        announce("oms bench api", scratch)
        _upgrade(scratch.database_url, tree)
        started = time.monotonic()
        seeded = _seed(scratch.database_url, orders, tree)
        print(f"{orders} orders stored in {time.monotonic() - started:.1f} s", flush=True)
        chosen = reads(seeded)
        statements: dict[str, tuple[int, int]] = {}
        if tree == ROOT:  # counted in process: this checkout's code only
            statements = count_statements(scratch.database_url, [(r.path, r.key) for r in chosen])
        else:
            print(f"the API of {tree}; statements not counted", flush=True)

        def one_api() -> contextlib.AbstractContextManager[str]:
            return api_server(scratch.database_url, scratch.broker_url, 1, tree)

        with servers(workers, one_api) as urls:
            bodies = {read.path.split("?")[0]: _body(urls[0], read) for read in chosen}
            with tempfile.TemporaryDirectory(prefix="oms-bench-api-") as folder:
                path = Path(folder) / "bodies.json"
                path.write_text(json.dumps(bodies), "utf-8")
                with servers(workers, lambda: floor_server(path, 1)) as floors:
                    print(
                        f"oms api on {workers} worker(s) at {', '.join(urls)}, the floor at "
                        f"{', '.join(floors)} (one server per worker, one wrk each); "
                        f"wrk -t{threads} -c{connections} -d{seconds}s in all, {rounds} round(s)",
                        flush=True,
                    )
                    results = []
                    for read in chosen:
                        runs = []
                        for _ in range(rounds):
                            load = dict(threads=threads, connections=connections, seconds=seconds)
                            api = run_wrk_across([u + read.path for u in urls], read.key, **load)
                            base = run_wrk_across([f + read.path for f in floors], read.key, **load)
                            runs.append((api, base))
                        results.append((read, runs))
    return report(results, statements)


def report(
    results: list[tuple[Read, list[tuple[Load, Load]]]], statements: dict[str, tuple[int, int]]
) -> int:
    print(
        f"{'read':<20} {'api req/s':>9} {'p99 ms':>7} {'non-2xx':>7} {'floor req/s':>11} "
        f"{'p99 ms':>7} {'ratio':>6}  {'statements':>10}  target"
    )
    failed = False
    for read, runs in results:
        api_rate = statistics.median(a.requests_per_second for a, _ in runs)
        api_p99 = statistics.median(a.p99_ms for a, _ in runs)
        floor_rate = statistics.median(f.requests_per_second for _, f in runs)
        floor_p99 = statistics.median(f.p99_ms for _, f in runs)
        ratio = statistics.median(a.requests_per_second / f.requests_per_second for a, f in runs)
        errors = sum(a.non_2xx + a.socket_errors for a, _ in runs)
        failed |= errors > 0
        steady, keyed = statements.get(read.path, (-1, -1))
        met = ratio >= read.ratio_target and errors == 0
        target = f"ratio >= {read.ratio_target}"
        if read.p99_target_ms is not None:
            target += f", p99 < {read.p99_target_ms:.0f} ms"
            met = met and api_p99 < read.p99_target_ms
        print(
            f"{read.name:<20} {api_rate:>9.1f} {api_p99:>7.1f} {errors:>7} {floor_rate:>11.1f} "
            f"{floor_p99:>7.1f} {ratio:>6.3f}  "
            f"{f'{steady:>3} (+{keyed - steady} key)' if steady >= 0 else 'n/a':>10}  "
            f"{target}: {'met' if met else 'NOT met'}"
        )
    print(
        "statements: SQL statements per request (a counting hook on the engine, in process); "
        "the key's lookup is made once a second per key and API process"
    )
    return 1 if failed else 0
