"""Small things of the command line that make it feel finished (issue 11, item 8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cli.main import main
from tests import services

ROOT = Path(__file__).resolve().parents[2]


def oms(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("oms ") and out != "oms unknown", out


def test_db_upgrade_says_which_migrations_it_applied_then_that_none_were_due() -> None:
    for url in services.make_database():  # an empty database
        first = oms({"OMS_DATABASE_URL": url}, "db", "upgrade")
        assert first.returncode == 0, first.stderr
        lines = first.stdout.splitlines()
        assert lines[0].startswith("applied 0001 (orders, merchant orders"), lines
        assert any(line.startswith("applied 0003 (polling") for line in lines), lines
        assert lines[-1] == "database is at the latest migration"

        again = oms({"OMS_DATABASE_URL": url}, "db", "upgrade")
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines() == ["database is at the latest migration; none were due"]


def test_the_scheduler_says_polling_is_off_once_not_at_every_tick(postgres_url: str) -> None:
    env = {
        **os.environ,
        "OMS_DATABASE_URL": postgres_url,
        "POLL_INTERVAL_SECONDS": "1",
        "AUTO_RUN_SHIP_THE_PACKAGE_COMMAND": "false",
        "OMS_LOG_LEVEL": "INFO",
    }
    oms(env, "poll", "off")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "scheduler"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stream = process.stderr
    assert stream is not None
    lines: list[str] = []

    def read() -> None:
        for line in stream:  # each line as the scheduler writes it
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not any("scheduler.polling_off" in line for line in lines):
        assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
        time.sleep(0.05)
    time.sleep(2.2)  # the first tick said it: two more ticks of one second
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    reader.join(timeout=30)
    err = "".join(lines)
    assert err.count("scheduler.polling_off") == 1, err
    assert "scheduler.tick" not in err and '"cycle": null' not in err, err


def test_no_tracked_file_is_ignored() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    assert listed.stdout == "", f".gitignore matches tracked files:\n{listed.stdout}"
