"""wrk (Debian's package `wrk`: `apt-get install wrk`) as the load generator of the API
benchmarks: a C client, so the figures are the server's, not a Python client's measuring
itself on the same cores. The key goes in a Lua script (mode 600, removed after), never on
wrk's command line (which `ps` shows)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

INSTALL = "wrk is not installed: apt-get install wrk (Debian's package), then run this again"
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(INSTALL)
    return found


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", value).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def parse(output: str) -> Load:
    """wrk's report (with --latency) → Load."""
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rate and total and p50 and p99):
        raise RuntimeError(f"wrk's output not understood:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Load(
        requests_per_second=float(rate.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_wrk(
    url: str, key: str | None, *, threads: int = 2, connections: int = 16, seconds: int = 10
) -> Load:
    wrk = require_wrk()
    with tempfile.TemporaryDirectory(prefix="oms-wrk-") as folder:
        argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
        if key is not None:
            script = os.path.join(folder, "key.lua")
            descriptor = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as lua:
                lua.write(f'wrk.headers["Authorization"] = "Token {key}"\n')
            argv += ["-s", script]
        done = subprocess.run(
            [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return parse(done.stdout)


def run_wrk_across(
    urls: list[str], key: str | None, *, threads: int = 2, connections: int = 16, seconds: int = 10
) -> Load:
    """One wrk per URL at once, the threads and connections shared out evenly; their sum (p50
    and p99: the worst of them, an upper bound). For N single-process servers standing for one
    server of N workers: uvicorn's workers share one listening socket, and the first awake
    accepts every connection waiting, so wrk's 16 keep-alive connections went all or mostly
    to one worker in a third of the rounds (the floor's bimodal 3,400 or 7,000 requests/s on
    2 cores). One server per worker, each sent its share, measures every round on every core."""
    if len(urls) == 1:
        return run_wrk(urls[0], key, threads=threads, connections=connections, seconds=seconds)
    share = dict(
        threads=max(1, threads // len(urls)),
        connections=max(1, connections // len(urls)),
        seconds=seconds,
    )
    with ThreadPoolExecutor(len(urls)) as pool:
        return combined(list(pool.map(lambda url: run_wrk(url, key, **share), urls)))


def combined(loads: list[Load]) -> Load:
    """Loads run at once, as one: their rates and counts summed, their latencies the worst."""
    return Load(
        requests_per_second=sum(load.requests_per_second for load in loads),
        p50_ms=max(load.p50_ms for load in loads),
        p99_ms=max(load.p99_ms for load in loads),
        requests=sum(load.requests for load in loads),
        non_2xx=sum(load.non_2xx for load in loads),
        socket_errors=sum(load.socket_errors for load in loads),
    )
