"""The suite's runner: the README's test command (`.venv/bin/python -m tests.run`).

Everything but the failure drills runs in parallel processes (pytest-xdist, `OMS_TEST_WORKERS`,
default 3: the tests wait on subprocesses, PostgreSQL and RabbitMQ more than they compute, and each
makes its own database and vhost, so two of them never meet). Then, when `OMS_DRILLS=1` (set by
`.ci/run`), the drills run alone, one after another: they stop and start the machine's RabbitMQ
and PostgreSQL, which would pull the services from under any test running beside them.

Arguments go to the first phase: `python -m tests.run tests/unit -x`. Plain `pytest` still works
and runs the same tests in one process.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest"]
    workers = os.environ.get("OMS_TEST_WORKERS", "3")
    parallel = subprocess.call([*pytest, "-n", workers, "-m", "not drills", *argv])
    if os.environ.get("OMS_DRILLS") != "1":
        return parallel
    print("\n=== the failure drills, alone ===", flush=True)
    drills = subprocess.call([*pytest, "-p", "no:xdist", "-m", "drills", "tests/drills"])
    return parallel or drills


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
