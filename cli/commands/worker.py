"""`oms worker STAGE` and `oms outbox sweep`: the processes of the Procfile."""

from __future__ import annotations

import argparse

from adapters.settings import Settings
from cli.commands import Commands, subcommands

STAGES = ["ingest", "split", "packaging", "report", "poll", "merchant", "all"]
GROUPED = {"ingest", "split"}  # their messages commit in groups: more threads, bigger groups


def register(commands: Commands) -> None:
    worker = commands.add_parser("worker", help="run one stage's dramatiq workers")
    worker.add_argument("stage", choices=STAGES)
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument(
        "--threads",
        type=int,
        help="per process (default: OMS_GROUP_THREADS for ingest/split, else OMS_WORKER_THREADS)",
    )
    worker.add_argument("--metrics-port", type=int, help="Prometheus metrics on 127.0.0.1:PORT")
    worker.set_defaults(handler=_worker)

    outbox = subcommands(commands, "outbox", "the outbox")
    sweep = outbox.add_parser("sweep", help="publish what a crash left unsent")
    sweep.add_argument("--loop", action="store_true", help="keep sweeping (the Procfile process)")
    sweep.add_argument("--interval", type=float, default=5.0, help="seconds between sweeps")
    sweep.add_argument(
        "--older-than", type=float, default=30.0, help="seconds a row waits before it is swept"
    )
    sweep.set_defaults(handler=_outbox_sweep)


def _worker(args: argparse.Namespace) -> int:
    from cli.worker import run_worker

    settings = Settings.from_env()
    default = settings.group_threads if args.stage in GROUPED else settings.worker_threads
    threads = args.threads or default
    return run_worker(
        args.stage, processes=args.processes, threads=threads, metrics_port=args.metrics_port
    )


def _outbox_sweep(args: argparse.Namespace) -> int:
    from cli.outbox import sweep

    return sweep(loop=args.loop, interval=args.interval, older_than=args.older_than)
