"""Metrics directories of worker groups that are gone are removed when a group starts (issue 21
item 20): `$TMPDIR/oms-metrics-STAGE-PID` whose pid no process holds, or whose pid another
program holds now (pids are reused after a crash cascade); a live group's stays. A group's own
directory starts empty even when a dead group with the same pid left one."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.worker import group_metrics_dir, sweep_metrics_dirs


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def sleeper(processes: list[subprocess.Popen[bytes]], *argv: str) -> int:
    """A process whose command line is `argv`, once it shows it: between fork and exec its
    /proc cmdline is still this test's (a loaded run swept a live group's folder then)."""
    command = [sys.executable, "-c", "import time; time.sleep(60)", *argv]
    process = subprocess.Popen(command)
    processes.append(process)
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + 10
    while cmdline.read_bytes().split(b"\0")[: len(command)] != [c.encode() for c in command]:
        assert time.monotonic() < deadline, "the sleeper did not start"
        time.sleep(0.01)
    return process.pid


def folder(root: Path, stage: str, pid: int | str) -> Path:
    path = root / f"oms-metrics-{stage}-{pid}"
    path.mkdir()
    (path / "counter_1.db").write_bytes(b"x")
    return path


def test_only_the_directories_of_live_groups_stay(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = folder(tmp_path, "ingest", dead.pid)
    reused = folder(tmp_path, "split", sleeper(processes))  # a pid another program holds now
    group = folder(tmp_path, "ingest", sleeper(processes, "cli.dramatiq_main", "workers.ingest"))
    starting = folder(tmp_path, "poll", sleeper(processes, "worker", "poll"))  # before its exec
    other = tmp_path / "oms-metrics-notes-x"
    other.mkdir()

    sweep_metrics_dirs(str(tmp_path))

    assert not gone.exists() and not reused.exists()
    assert group.exists() and starting.exists() and other.exists()


def test_a_group_starts_with_an_empty_directory(tmp_path: Path) -> None:
    stale = folder(tmp_path, "ingest", 4242)  # a dead group that had this pid
    directory = group_metrics_dir(str(tmp_path), "ingest", 4242)
    assert Path(directory) == stale and list(stale.iterdir()) == []
