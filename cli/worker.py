"""`oms worker STAGE`: run one stage's dramatiq worker group, with metrics on a loopback port
when asked. dramatiq's exposition server is a fork of dramatiq's main process, so its settings
must be in the environment before dramatiq starts: this command sets them and execs dramatiq."""

from __future__ import annotations

import os
import sys
import tempfile

STAGES = {
    "ingest": "workers.ingest",
    "split": "workers.split",
    "packaging": "workers.packaging",
    "report": "workers.report",
    "poll": "workers.poll",
    "all": "workers.actors",
}


def run_worker(stage: str, *, processes: int, threads: int, metrics_port: int | None) -> int:
    env = dict(os.environ)
    if metrics_port:
        env["dramatiq_prom_port"] = str(metrics_port)
        env["dramatiq_prom_host"] = env.get("OMS_METRICS_HOST", "127.0.0.1")
        env["dramatiq_prom_db"] = os.path.join(
            tempfile.gettempdir(), f"oms-prometheus-{stage}-{metrics_port}"
        )
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        STAGES[stage],
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    os.execve(sys.executable, argv, env)
    return 0  # not reached
