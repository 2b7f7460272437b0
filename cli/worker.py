"""`oms worker STAGE`: run one stage's dramatiq worker group, with metrics on a loopback port
when asked. The exposition server is a fork of dramatiq's main process, so its socket and
directory are made before dramatiq starts: this command binds the port, names the directory in
the environment and execs dramatiq (adapters/messaging/prometheus.py)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

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


PORTS_TRIED = 16  # a stage scaled to more groups than this needs ports given explicitly


def bind_metrics_port(host: str, first: int) -> socket.socket:
    """The first free port from `first` on: every group of a scaled stage gets its own (honcho
    -c ingest=2 gives P and P+1). The socket is bound here, before dramatiq starts, so two
    groups starting together can never pick the same port."""
    for port in range(first, first + PORTS_TRIED):
        listener = socket.socket()
        try:
            listener.bind((host, port))
        except OSError:
            listener.close()
            continue
        listener.listen(16)
        listener.set_inheritable(True)
        return listener
    raise SystemExit(f"no free metrics port in {first}..{first + PORTS_TRIED - 1} on {host}")


def sweep_metrics_dirs(root: str) -> None:
    """Remove the metrics directories of groups that are gone: killed before their exposition
    fork could remove its own (SIGKILL, a crash cascade), also when their pid has since been
    given to another program."""
    for path in glob.glob(os.path.join(root, "oms-metrics-*-*")):
        pid = path.rsplit("-", 1)[-1]
        if pid.isdigit() and not _group_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _group_alive(pid: int) -> bool:
    """Whether `pid` is still a worker group: an `oms worker` about to exec dramatiq, or the
    dramatiq main process it became (`cli.dramatiq_main`). A pid no process holds, or one that
    another program holds now (pids are reused), is not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: not ours to judge
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False  # gone meanwhile
    except OSError:
        return True  # no /proc here: alive is all we know
    return b"cli.dramatiq_main" in argv or b"worker" in argv


def group_metrics_dir(root: str, stage: str, pid: int) -> str:
    """The group's own directory, empty: one left by a dead group that had the same pid would
    add that group's counters to this one's."""
    directory = os.path.join(root, f"oms-metrics-{stage}-{pid}")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    return directory


def run_worker(stage: str, *, processes: int, threads: int, metrics_port: int | None) -> int:
    env = dict(os.environ)
    for stale in ("dramatiq_prom_port", "dramatiq_prom_host", "dramatiq_prom_db"):
        env.pop(stale, None)
    root = tempfile.gettempdir()
    sweep_metrics_dirs(root)  # at every start: a stage started without metrics sweeps too
    if metrics_port:
        listener = bind_metrics_port(env.get("OMS_METRICS_HOST", "127.0.0.1"), metrics_port)
        # exec keeps the pid: the directory is named after the group's dramatiq main process
        directory = group_metrics_dir(root, stage, os.getpid())
        env["OMS_METRICS_DIR"], env["OMS_METRICS_FD"] = directory, str(listener.fileno())
        print(
            f"metrics of {stage} (pid {os.getpid()}) on "
            f"http://{listener.getsockname()[0]}:{listener.getsockname()[1]}/metrics",
            file=sys.stderr,
            flush=True,
        )
    from adapters.persistence.budget import check_at_start, stage_pool
    from adapters.settings import Settings

    settings = Settings.from_env()
    pool = stage_pool(stage, threads)
    env["OMS_DB_POOL_SIZE"] = str(pool)
    check_at_start(
        settings.database_url,
        f"oms worker {stage} ({processes} process(es) x {pool} connections)",
        processes * pool,
        settings,
    )
    module, queues = STAGES[stage]
    argv = [
        sys.executable,
        "-m",
        "cli.dramatiq_main",  # dramatiq's own command line, logging JSON from the first line
        module,
        "--skip-logging",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ] + (["--queues", *queues] if queues else [])
    os.execve(sys.executable, argv, env)
    return 0  # not reached
