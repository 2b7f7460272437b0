"""No body makes the API answer 5xx (issue 21, item 4; spec 11): JSON nested too deeply is a
400 and a body over the limit a 413, on every POST endpoint, nothing is published for them, and
each such request is in the access log."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import Engine

from api.guards import MAX_BODY_BYTES, MAX_DEPTH
from tests import services
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer
from tests.api.stored import example, store
from tests.api.test_hosts_and_links import log_count

pytestmark = pytest.mark.services
NESTED = {"detail": f"body: JSON nested deeper than {MAX_DEPTH} levels"}
TOO_LARGE = {"detail": f"body: larger than {MAX_BODY_BYTES} bytes"}


def post_paths(api_db: Engine) -> list[tuple[str, str]]:
    """(path, key kind) of every POST endpoint, on data that exists."""
    body = example()
    package_id = store(api_db, body)[0]
    return [
        ("/api/v1/cargo-company-conditions/", "operator"),
        (f"/api/v1/packages/{package_id}/command/", "operator"),
        (f"/api/v1/merchant/orders/{body['number']}--MER000002/events/", "merchant_a"),
        ("/api/v1/dead-letters/1/replay/", "operator"),
    ]


def test_every_post_endpoint_is_in_this_file(api: ApiServer, api_db: Engine) -> None:
    document = requests.get(api.url + "/api/v1/openapi.json", timeout=30).json()
    posts = {path for path, item in document["paths"].items() if "post" in item}
    assert len(posts) == len(post_paths(api_db)) == 4


def test_a_100000_deep_array_is_400_not_500_and_logged(api: ApiServer, keys: Keys) -> None:
    path = "/api/v1/cargo-company-conditions/"
    logged = f'"path": "{path}", "status": 400'
    before = api.log.read_text().count(logged)
    deep = "[" * 100_000 + "]" * 100_000
    answer = requests.post(
        api.url + path,
        data=deep,
        headers={**token(keys.operator), "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json() == NESTED
    assert log_count(api, logged, before + 1) == before + 1, "the request is in the access log"
    assert '"status": 500' not in api.log.read_text()


@pytest.mark.parametrize("depth", [MAX_DEPTH, 900, 100_000])
def test_nesting_is_refused_on_every_post_endpoint_and_nothing_is_published(
    api: ApiServer, keys: Keys, api_db: Engine, rabbitmq_url: str, depth: int
) -> None:
    """A command's free-form input_parameters nested 900 deep was published before."""
    before = {q: services.queue_depth(rabbitmq_url, q) for q in ("oms.packaging", "oms.merchant")}
    nested = "[" * depth + "1" + "]" * depth  # json.dumps itself recurses
    body = f'{{"slug": "X", "event": "ship", "input_parameters": {{"x": {nested}}}}}'
    for path, who in post_paths(api_db):
        answer = requests.post(
            api.url + path,
            data=body,
            headers={**token(getattr(keys, who)), "Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json() == NESTED, path
    after = {q: services.queue_depth(rabbitmq_url, q) for q in ("oms.packaging", "oms.merchant")}
    assert after == before


def test_oversized_bodies_are_413_on_every_post_endpoint(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    big = json.dumps({"slug": "X", "event": "x" * MAX_BODY_BYTES})
    for path, who in post_paths(api_db):
        headers = {**token(getattr(keys, who)), "Content-Type": "application/json"}
        declared = requests.post(api.url + path, data=big, headers=headers, timeout=30)
        assert declared.status_code == 413, (path, declared.text)
        assert declared.json() == TOO_LARGE
        streamed = requests.post(  # chunked: no Content-Length to go by
            api.url + path, data=iter([big[:1000].encode(), big[1000:].encode()]),
            headers=headers, timeout=30,
        )  # fmt: skip
        assert streamed.status_code == 413, (path, streamed.text)
    logged = '"status": 413'
    assert log_count(api, logged, 8) >= 8
