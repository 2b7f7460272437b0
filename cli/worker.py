"""`oms worker STAGE`: run one stage's dramatiq worker group, with metrics on a loopback port
when asked. dramatiq's exposition server is a fork of dramatiq's main process, so its settings
must be in the environment before dramatiq starts: this command sets them and execs dramatiq."""

from __future__ import annotations

import os
import sys
import tempfile

# stage -> (module, the queues it consumes). The queue list matters: a stage publishes to the
# next stage's queue, which declares that queue in its broker, and a dramatiq worker consumes
# every declared queue unless told which — it would take the next stage's messages and
# dead-letter them for want of their actor.
STAGES: dict[str, tuple[str, list[str]]] = {
    "ingest": ("workers.ingest", ["oms.ingest"]),
    "split": ("workers.split", ["oms.split"]),
    "packaging": ("workers.packaging", ["oms.packaging"]),
    "report": ("workers.report", ["oms.report"]),
    "poll": ("workers.poll", ["oms.poll"]),
    "merchant": ("workers.merchant", ["oms.merchant"]),
    "all": ("workers.actors", []),
}


def run_worker(stage: str, *, processes: int, threads: int, metrics_port: int | None) -> int:
    env = dict(os.environ)
    if metrics_port:
        env["dramatiq_prom_port"] = str(metrics_port)
        env["dramatiq_prom_host"] = env.get("OMS_METRICS_HOST", "127.0.0.1")
        env["dramatiq_prom_db"] = os.path.join(
            tempfile.gettempdir(), f"oms-prometheus-{stage}-{metrics_port}"
        )
    module, queues = STAGES[stage]
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        module,
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ] + (["--queues", *queues] if queues else [])
    os.execve(sys.executable, argv, env)
    return 0  # not reached
