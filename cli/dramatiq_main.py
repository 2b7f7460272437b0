"""`python -m cli.dramatiq_main …`: dramatiq's command line (what `oms worker` execs), with
the project's JSON logs set up in the main process before dramatiq logs its first line. Run it
with `--skip-logging`: dramatiq then leaves the logging configuration alone in every process
(the worker processes set up the same JSON logs when they import the broker)."""

from __future__ import annotations

import sys

from dramatiq.cli import main as dramatiq_main

from adapters.logging import configure_logging


def main() -> int:
    configure_logging()
    return int(dramatiq_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
