"""A small load generator for the HTTP API on loopback: N threads, one keep-alive connection
each, for a bounded time; prints requests/s, status counts and latency percentiles.

    oms api --workers 2 &
    python benchmarks/api_load.py --key KEY --path /api/v1/merchant/orders/TY-1--MER000002/

The lead measures on a quiet machine; on a shared one the figures mean little."""

from __future__ import annotations

import argparse
import http.client
import threading
import time
from collections import Counter
from urllib.parse import urlsplit


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--path", required=True, help="e.g. /api/v1/merchant/orders/REF/")
    parser.add_argument("--key", required=True, help="an API key (never printed)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="at most 300")
    args = parser.parse_args()
    seconds = min(max(args.seconds, 1.0), 300.0)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=worker, args=(args.url, args.path, args.key, until, latencies, statuses, lock)
        )
        for _ in range(args.threads)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    done = len(latencies)
    print(f"{done} requests in {took:.1f} s with {args.threads} threads: {done / took:.0f} req/s")
    print("statuses: " + ", ".join(f"{s or 'error'}: {n}" for s, n in sorted(statuses.items())))
    print(
        f"latency ms: p50 {percentile(latencies, 0.5) * 1000:.1f}, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f}, max {max(latencies or [0]) * 1000:.1f}"
    )
    return 0 if statuses and set(statuses) <= {200} else 1


if __name__ == "__main__":
    raise SystemExit(main())
