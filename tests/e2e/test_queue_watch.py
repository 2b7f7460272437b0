"""`oms queues --watch` on a real terminal (tmux, 80 columns) outlives a broker outage
(issue 11, item 5): before, during and after, through a loopback proxy this test stops and
starts — the shared RabbitMQ is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from adapters.messaging.broker import build_broker
from tests import services
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.services, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def vhost_url() -> Iterator[str]:
    """A vhost of this test's own: only the queues it declares exist there."""
    yield from services.make_vhost()


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Screen:
    def __init__(self, socket_name: str) -> None:
        self.tmux = ["tmux", "-L", socket_name]

    def text(self) -> str:
        # -J joins lines tmux wrapped: a line wider than the pane shows as one long line
        done = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-J", "-t", "watch"],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def wait(self, ok: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if ok(text):
                return text
            time.sleep(0.3)
        raise AssertionError(f"the screen never showed {what}:\n{self.text()}")


def assert_clean(text: str) -> None:
    lines = text.rstrip("\n").splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    for noise in ("Traceback", "pika", '"level"', '"event"'):
        assert noise not in text, text


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_watch_outlives_a_broker_outage_in_80_columns(
    vhost_url: str, postgres_url: str
) -> None:
    broker = build_broker(vhost_url, [])
    broker.declare_queue("oms.ingest", ensure=True)  # only this pipeline queue exists
    broker.close()
    proxy = TcpProxy(urlsplit(vhost_url).port or 5672)
    proxy.start()
    socket_name = f"oms-watch-{uuid.uuid4().hex[:8]}"
    screen = Screen(socket_name)
    env = {
        **os.environ,
        "OMS_DATABASE_URL": postgres_url,
        "OMS_BROKER_URL": through(proxy, vhost_url),
        # a closed port: the figures come from AMQP alone, whatever the CI broker has enabled
        "OMS_RABBITMQ_MANAGEMENT_URL": f"http://127.0.0.1:{TcpProxy(1).port}",
        "PYTHONPATH": str(ROOT),
        "OMS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "cli.main", "queues", "--watch", "--interval", "0.5"]
    subprocess.run(
        ["tmux", "-L", socket_name, "new-session", "-d", "-x", "80", "-y", "30", "-s", "watch",
         "-c", str(ROOT), "env",
         *[f"{k}={v}" for k, v in env.items() if k.startswith(("OMS_", "PYTHONPATH"))],
         *command],
        check=True, env=env,
    )  # fmt: skip
    try:
        before = screen.wait(lambda s: "read at" in s and "oms.ingest" in s, "a first read")
        assert_clean(before)
        table = [line.split() for line in before.splitlines()]
        assert [row[0] for row in table if row and row[0].startswith("oms.")] == ["oms.ingest"]
        assert "not declared yet: oms.split" in before
        assert "oms.split " not in before.replace("not declared yet: oms.split,", "")

        proxy.stop()
        during = screen.wait(lambda s: "UNAVAILABLE" in s, "the outage")
        assert_clean(during)
        assert "broker unreachable" in during
        assert "last good read at" in during and "not live" in during
        assert any(row[:1] == ["oms.ingest"] for row in (x.split() for x in during.splitlines()))
        time.sleep(1.5)  # several failed reads later it still watches
        assert "UNAVAILABLE" in screen.text()

        proxy.start()
        after = screen.wait(lambda s: "UNAVAILABLE" not in s and "read at" in s, "recovery")
        assert_clean(after)
        assert any(row[:1] == ["oms.ingest"] for row in (x.split() for x in after.splitlines()))
    finally:
        subprocess.run(["tmux", "-L", socket_name, "kill-server"], check=False)
        proxy.stop()
