"""`oms worker STAGE` and `oms outbox sweep`: the processes of the Procfile; `oms outbox prune`,
the outbox's daily clean-up."""

from __future__ import annotations

import argparse
import math

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
    prune = outbox.add_parser("prune", help="delete rows published more than --days days ago")
    prune.add_argument(
        "--days", type=_days, default=7.0, help="age of the published rows to delete (default 7)"
    )
    prune.set_defaults(handler=_outbox_prune)


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not (math.isfinite(days) and 0 <= days <= 36_500):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 0 to 36500")
    return days


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


def _outbox_prune(args: argparse.Namespace) -> int:
    from cli.outbox import prune

    return prune(days=args.days)
