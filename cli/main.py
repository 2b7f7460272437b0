"""`oms`: the operator's command line (spec section 8). Exit 0 on success, else non-zero with a
one-line reason on stderr. Each command group lives in its own module under `cli/commands/`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cli.commands import (
    api,
    bench,
    csv_commands,
    db,
    demo,
    dlq,
    merchant,
    orders,
    package,
    poll,
    reservations,
    simulator,
    users,
    watch,
    worker,
)

GROUPS = (
    db,
    orders,
    package,
    merchant,
    reservations,
    csv_commands,
    poll,
    worker,
    watch,
    dlq,
    api,
    users,
    demo,
    simulator,
    bench,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oms-pipeline")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oms", description="Marketplace order pipeline")
    parser.add_argument("--version", action="version", version=f"oms {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    return parser


def closed_pipe() -> int:
    """The reader went away (`oms dlq list | head`): stop quietly, as `cat` does. stdout is
    pointed at /dev/null so the interpreter's last flush does not fail again on exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from adapters.logging import configure_logging

    # logs are JSON on stderr, never on stdout (which --json output and pipes read);
    # long-running commands (scheduler, sweeper, keeper) raise the level to INFO themselves
    configure_logging(os.environ.get("OMS_LOG_LEVEL", "WARNING"))
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        return closed_pipe()
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except Exception as error:  # one line for the operator; details go to the JSON log
        print(f"oms: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
