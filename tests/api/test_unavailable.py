"""A database or broker that is down answers 503 naming it, quickly: never a hang, never a 500
trace. The outage is a server pointed at a closed loopback port; the real services are left
alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine

from tests.api.conftest import Keys, token
from tests.api.server import ApiServer, free_port
from tests.api.stored import example, store

pytestmark = pytest.mark.services


@pytest.fixture
def no_database(rabbitmq_url: str, tmp_path: Path) -> Iterator[ApiServer]:
    dead = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/oms"
    server = ApiServer(dead, rabbitmq_url, tmp_path, name="api-no-db").start(healthy=False)
    yield server
    server.stop()


@pytest.fixture
def no_broker(postgres_url: str, tmp_path: Path) -> Iterator[ApiServer]:
    port = free_port()
    server = ApiServer(
        postgres_url, f"amqp://guest:guest@127.0.0.1:{port}/%2F", tmp_path, name="api-no-broker"
    )
    server.env["OMS_RABBITMQ_MANAGEMENT_URL"] = f"http://127.0.0.1:{port}"
    yield server.start(healthy=False)
    server.stop()


def timed(method: str, url: str, **kw: object) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = requests.request(method, url, timeout=30, **kw)  # type: ignore[arg-type]
    return answer, time.monotonic() - started


def test_database_down_is_503_naming_it(no_database: ApiServer, keys: Keys) -> None:
    health, _ = timed("GET", no_database.url + "/healthz")
    assert health.status_code == 503
    assert health.json()["detail"] == "database unavailable"
    assert health.json()["checks"]["broker"] == "ok"
    assert health.json()["checks"]["database"].startswith("down: ")
    for method, path in (
        ("GET", "/api/v1/orders/"),
        ("GET", "/api/v1/orders/X/"),
        ("POST", "/api/v1/packages/1/command/"),
        ("GET", "/api/v1/dead-letters/"),
    ):
        answer, took = timed(
            method, no_database.url + path, headers=token(keys.operator), json={"slug": "X"}
        )
        assert answer.status_code == 503, (path, answer.text)
        assert answer.json() == {"detail": "database unavailable"}
        assert took < 10, f"{path} took {took:.1f} s"


def test_broker_down_is_503_naming_it(no_broker: ApiServer, keys: Keys, api_db: Engine) -> None:
    health, took = timed("GET", no_broker.url + "/healthz")
    assert health.status_code == 503 and took < 10
    assert health.json()["detail"] == "broker unavailable"
    assert health.json()["checks"]["database"] == "ok"
    package_id = store(api_db, example())[0]
    command, took = timed(
        "POST",
        f"{no_broker.url}/api/v1/packages/{package_id}/command/",
        headers=token(keys.operator),
        json={"slug": "CHANNEL_BASED_COMPLETE_PACKAGING"},
    )
    assert command.status_code == 503, command.text
    assert command.json() == {"detail": "broker unavailable"}
    assert took < 10, f"the command took {took:.1f} s"
    queues, took = timed("GET", no_broker.url + "/api/v1/queues/", headers=token(keys.operator))
    assert queues.status_code == 503 and queues.json() == {"detail": "broker unavailable"}
    assert took < 10
    reads, _ = timed("GET", no_broker.url + "/api/v1/orders/", headers=token(keys.operator))
    assert reads.status_code == 200, "reads do not need the broker"
