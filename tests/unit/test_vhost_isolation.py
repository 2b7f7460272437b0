"""The test suite never uses another user's vhost (issue 21 item 16): when it cannot make a
private vhost (no rabbitmqctl, or one that fails, and no management API), a test that needs
RabbitMQ is skipped loudly, or fails under OMS_REQUIRE_SERVICES=1. It used to fall back to `/`
and purge the `oms.*` queues there. No real broker is touched here: every AMQP connection and
every socket the helper opens is recorded by fakes."""

from __future__ import annotations

import socket
import stat
from pathlib import Path
from typing import Any

import pika
import pytest

from tests import services


class Recorder:
    """Stands in for pika.BlockingConnection: records the URL and does nothing."""

    urls: list[str]

    def __init__(self, parameters: Any) -> None:
        Recorder.urls.append(f"vhost={parameters.virtual_host}")

    def channel(self) -> Any:
        return self

    def queue_purge(self, name: str) -> None:
        Recorder.urls.append(f"purge {name}")

    def close(self) -> None:
        pass


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def no_private_vhost(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """PATH with no rabbitmqctl, or a rabbitmqctl that exits 1; a management API that does not
    answer; the broker's port "open" (a fake socket), every AMQP connection recorded."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if request.param == "failing":
        ctl = bin_dir / "rabbitmqctl"
        ctl.write_text("#!/bin/sh\necho 'Error: unable to perform an operation' >&2\nexit 1\n")
        ctl.chmod(ctl.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("OMS_RABBITMQ_MANAGEMENT_URL", f"http://127.0.0.1:{closed_port()}")
    Recorder.urls = []
    monkeypatch.setattr(pika, "BlockingConnection", Recorder)
    real_connect = socket.create_connection

    class Open:
        def close(self) -> None:
            pass

    def connect(address: Any, *args: Any, **kwargs: Any) -> Any:
        if tuple(address)[1] == 5672:
            return Open()
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)
    return Recorder.urls


@pytest.mark.parametrize("no_private_vhost", ["missing", "failing"], indirect=True)
def test_a_test_without_a_private_vhost_is_skipped_and_never_uses_the_default_vhost(
    no_private_vhost: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "REQUIRE_SERVICES", False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        next(services.make_vhost())
    assert "SERVICE TESTS SKIPPED" in str(skipped.value)
    assert "never fall back to vhost '/'" in str(skipped.value)
    assert no_private_vhost == [], "the default vhost was used"


@pytest.mark.parametrize("no_private_vhost", ["missing", "failing"], indirect=True)
def test_under_ci_a_test_without_a_private_vhost_fails(
    no_private_vhost: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "REQUIRE_SERVICES", True)
    with pytest.raises(pytest.fail.Exception) as failed:
        next(services.make_vhost())
    reason = str(failed.value)
    assert "rabbitmqctl" in reason and "management API" in reason, reason
    assert no_private_vhost == [], "the default vhost was used"


def test_purging_the_default_vhost_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    Recorder.urls = []
    monkeypatch.setattr(pika, "BlockingConnection", Recorder)
    for url in (f"{services.RABBITMQ_SERVER}/%2F", services.RABBITMQ_SERVER):
        with pytest.raises(AssertionError, match="refusing"):
            services.purge_queues(url)
    assert Recorder.urls == []
    services.purge_queues(f"{services.RABBITMQ_SERVER}/oms-test-12345678")
    assert Recorder.urls[0] == "vhost=oms-test-12345678"


def test_a_command_a_test_runs_without_naming_a_broker_reaches_no_default_vhost() -> None:
    """The settings' default broker URL is the default vhost `/` of the local RabbitMQ: a
    command run by a test that does not set OMS_BROKER_URL must not get it."""
    from adapters.settings import Settings

    settings = Settings.from_env()
    assert services.vhost_of(settings.broker_url) not in ("/", ""), settings.broker_url
    assert ":1/" in settings.broker_url and ":1/" in settings.database_url  # a closed port
