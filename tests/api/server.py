"""`oms api` as a subprocess on a free loopback port, against the session's database and vhost.
Every key the API tests issue, and every log file the servers write, is registered here so that
the last test can grep the logs of the whole suite for the keys."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
ISSUED_KEYS: list[str] = []
LOG_FILES: list[Path] = []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ApiServer:
    def __init__(
        self, database_url: str, broker_url: str, log_dir: Path, *, workers: int = 1,
        wait_seconds: float = 4.0, name: str = "api",
    ) -> None:  # fmt: skip
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{name}-{self.port}.log"
        LOG_FILES.append(self.log)
        self.env = {
            **os.environ,
            "OMS_DATABASE_URL": database_url,
            "OMS_BROKER_URL": broker_url,
            "OMS_API_WAIT_SECONDS": str(wait_seconds),
            "OMS_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, healthy: bool = True, timeout: float = 30.0) -> ApiServer:
        argv = [sys.executable, "-m", "cli.main", "api", "--port", str(self.port)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*argv, "--workers", str(self.workers)],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"oms api exited: {self.log.read_text()[-2000:]}"
            try:
                answer = requests.get(f"{self.url}/healthz", timeout=10)
            except requests.ConnectionError:
                time.sleep(0.1)
                continue
            if answer.status_code == 200 or not healthy:
                return self
            time.sleep(0.2)
        raise AssertionError(f"oms api did not become healthy: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
