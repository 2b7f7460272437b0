"""Links never come from a forged Host header (issue 21, item 3; spec 11): a Host outside
OMS_API_ALLOWED_HOSTS answers 400 (a port is fine, /healthz is exempt), and with
OMS_API_PUBLIC_URL set every absolute link (`next`, `previous`, `status_url`, `Location`) is
built from it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import Engine

from adapters.persistence.dead_letters import record_dead_letter
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer
from tests.api.stored import example, store

pytestmark = pytest.mark.services
PUBLIC = "https://oms.example.com/backoffice"
REFUSED = {"detail": "invalid Host header: not one of OMS_API_ALLOWED_HOSTS"}


def letters(engine: Engine, count: int) -> str:
    """A queue of its own with `count` dead letters, so that its list has pages."""
    queue = f"oms.linktest-{uuid.uuid4().hex[:6]}"
    for n in range(count):
        message = {
            "queue_name": queue, "actor_name": "some_actor", "args": [{"n": n}], "kwargs": {},
            "options": {}, "message_id": str(uuid.uuid4()), "message_timestamp": 0,
        }  # fmt: skip
        record_dead_letter(engine, message, f"reason {n}")
    return queue


def log_count(api: ApiServer, text: str, expected: int, timeout: float = 5.0) -> int:
    """How often `text` is in the server's log, once it is `expected` or the time is up (the
    access log line is written just after the answer is sent)."""
    deadline = time.monotonic() + timeout
    while (found := api.log.read_text().count(text)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def get(url: str, key: str, host: str | None = None, **params: object) -> requests.Response:
    headers = {**token(key), **({"Host": host} if host else {})}
    return requests.get(url, params=params, headers=headers, timeout=30)


def test_a_forged_host_is_refused_and_never_shapes_a_link(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    queue = letters(api_db, 3)
    path = api.url + "/api/v1/dead-letters/"
    logged = '"path": "/api/v1/dead-letters/", "status": 400'
    before = api.log.read_text().count(logged)
    forged = get(path, keys.operator, "evil.example:666", queue=queue, limit=1, page=2)
    assert forged.status_code == 400, forged.text
    assert forged.json() == REFUSED
    assert "evil.example" not in forged.text
    page = get(path, keys.operator, f"localhost:{api.port}", queue=queue, limit=1, page=2).json()
    assert (
        page["next"]
        == f"http://localhost:{api.port}/api/v1/dead-letters/?queue={queue}&page=3&limit=1"
    )
    assert page["previous"].startswith(f"http://localhost:{api.port}/api/v1/dead-letters/?")
    plain = get(path, keys.operator, queue=queue, limit=1).json()  # Host 127.0.0.1:port
    assert urlsplit(plain["next"]).netloc == f"127.0.0.1:{api.port}"
    assert get(api.url + "/healthz", keys.operator, "10.1.2.3:8000").status_code == 200
    # the refusal is in the access log like any answer
    assert log_count(api, logged, before + 1) == before + 1


@pytest.fixture(scope="module")
def public_api(
    postgres_url: str, rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """Behind a proxy: a public URL with a path prefix, the proxy's host allowed."""
    server = ApiServer(
        postgres_url, rabbitmq_url, tmp_path_factory.mktemp("api-public"), wait_seconds=0.3,
        name="api-public",
    )  # fmt: skip
    server.env["OMS_API_PUBLIC_URL"] = PUBLIC + "/"
    server.env["OMS_API_ALLOWED_HOSTS"] = "127.0.0.1,api.internal"
    yield server.start()
    server.stop()


def test_links_come_from_the_public_url(public_api: ApiServer, keys: Keys, api_db: Engine) -> None:
    queue = letters(api_db, 3)
    path = public_api.url + "/api/v1/dead-letters/"
    page = get(path, keys.operator, "api.internal:8000", queue=queue, limit=1, page=2).json()
    assert page["next"] == f"{PUBLIC}/api/v1/dead-letters/?queue={queue}&page=3&limit=1"
    assert page["previous"] == f"{PUBLIC}/api/v1/dead-letters/?queue={queue}&page=1&limit=1"
    assert get(path, keys.operator, "localhost", queue=queue).json() == REFUSED, "not listed"
    redirect = requests.get(  # Starlette's redirect to the path with its trailing slash
        path.rstrip("/"), params={"queue": queue}, headers={"Host": "api.internal"},
        allow_redirects=False, timeout=30,
    )  # fmt: skip
    assert redirect.status_code == 307
    assert redirect.headers["Location"] == f"{PUBLIC}/api/v1/dead-letters/?queue={queue}"

    package_id = store(api_db, example())[0]  # no packaging worker runs: 202 after the wait
    accepted = requests.post(
        f"{public_api.url}/api/v1/packages/{package_id}/command/",
        json={"slug": "CHANNEL_BASED_COMPLETE_PACKAGING"},
        headers={**token(keys.operator), "Host": "api.internal"},
        timeout=30,
    )
    assert accepted.status_code == 202, accepted.text
    status_url = accepted.json()["status_url"]
    command_id = accepted.json()["command_id"]
    assert status_url == f"{PUBLIC}/api/v1/package-commands/{command_id}/"
    assert accepted.headers["Location"] == status_url
    # the proxy strips the prefix: the same path on the API answers the status
    status = get(public_api.url + status_url.removeprefix(PUBLIC), keys.operator)
    assert status.json() == {"command_id": command_id, "status": "pending"}
