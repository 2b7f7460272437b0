"""The benchmark's baseline: a no-op dramatiq chain with the pipeline's hops (publish -> first
actor -> send -> second actor), on the same broker settings. The second actor appends the
completion time to a file, which is all the measuring it needs."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import dramatiq

import workers  # noqa: F401  (the broker is configured before these actors exist)

_OUT = Path(os.environ.get("OMS_BENCH_DIR", "/tmp")) / f"noop-done-{os.getpid()}.log"


@dramatiq.actor(queue_name="bench.noop.first", actor_name="noop_first", max_retries=0)
def noop_first(body: dict[str, Any]) -> None:
    noop_second.send(body)


@dramatiq.actor(queue_name="bench.noop.second", actor_name="noop_second", max_retries=0)
def noop_second(body: dict[str, Any]) -> None:
    with _OUT.open("a") as out:
        out.write(f"{body['key']} {time.time():.6f}\n")
