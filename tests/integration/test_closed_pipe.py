"""Every command that prints exits quietly when its reader goes away (`oms dlq list | head`):
no BrokenPipeError traceback, no "oms: BrokenPipeError" line (issue 11, item 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "command", [["dlq", "list"], ["metrics"], ["queues"], ["packages", "list", "--json"]]
)
def test_a_closed_pipe_ends_the_command_quietly(
    postgres_url: str, rabbitmq_url: str, command: list[str]
) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes its first line
    env = {
        **os.environ,
        "OMS_DATABASE_URL": postgres_url,
        "OMS_BROKER_URL": rabbitmq_url,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *command],
        stdout=write,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        timeout=60,
        text=True,
    )
    os.close(write)
    assert done.stderr == "", done.stderr
    assert done.returncode == 141
