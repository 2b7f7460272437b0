"""The API and the CLI accept the same values (issue 21, item 18; spec 11): a status is a code
or its name, and a filter naming something that cannot exist is a 400, not an empty page."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import Engine

from tests.api.conftest import Keys, token
from tests.api.server import ApiServer
from tests.api.stored import example, fresh_channel, store

pytestmark = pytest.mark.services


def get(api: ApiServer, key: str, path: str, **params: object) -> requests.Response:
    return requests.get(api.url + path, params=params, headers=token(key), timeout=30)


def test_order_status_by_code_or_name(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    channel = fresh_channel()
    body = example(channel_id=channel)
    store(api_db, body)
    path = "/api/v1/orders/"
    by_code = get(api, keys.operator, path, channel=channel, status="400")
    assert by_code.status_code == 200, by_code.text
    assert [o["number"] for o in by_code.json()["results"]] == [body["number"]]
    for name in ("approved", "APPROVED", " approved "):
        by_name = get(api, keys.operator, path, channel=channel, status=name)
        assert by_name.status_code == 200, (name, by_name.text)
        assert by_name.json()["results"] == by_code.json()["results"], name
    assert by_code.json()["results"][0]["status"] == "approved", "the name the API answers"
    delivered = get(api, keys.operator, path, channel=channel, status="delivered")
    assert delivered.status_code == 200 and delivered.json()["count"] == 0
    for bad in ("nope", "999", "5 50"):
        refused = get(api, keys.operator, path, status=bad)
        assert refused.status_code == 422, (bad, refused.text)
        problem = refused.json()["errors"][0]
        assert problem["field"] == "query.status"
        assert problem["rule"].startswith(f"unknown order status {bad!r}; a code or its name:")
        assert "550 delivered" in problem["rule"]


def test_an_unknown_channel_is_400(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    channel = fresh_channel()
    refused = get(api, keys.operator, "/api/v1/orders/", channel=channel)
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": f"unknown channel {channel}: no order of it was ever received"
    }
    store(api_db, example(channel_id=channel))
    assert get(api, keys.operator, "/api/v1/orders/", channel=channel).json()["count"] == 1
    empty = get(api, keys.operator, "/api/v1/orders/", channel=channel, status="delivered")
    assert empty.status_code == 200 and empty.json()["count"] == 0, "a known channel, no match"


def test_an_unknown_queue_is_400_as_in_the_cli(api: ApiServer, keys: Keys) -> None:
    refused = get(api, keys.operator, "/api/v1/dead-letters/", queue="oms.nope")
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "unknown queue 'oms.nope'; the pipeline's queues are oms.ingest, oms.split, "
        "oms.packaging, oms.report, oms.poll, oms.merchant"
    }
    for queue in ("oms.report", "oms.merchant"):  # pipeline queues, with or without letters
        assert get(api, keys.operator, "/api/v1/dead-letters/", queue=queue).status_code == 200


def test_an_unknown_merchant_state_is_400(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    store(api_db, example())
    path = "/api/v1/merchant/orders/"
    refused = get(api, keys.merchant_a, path, state="shiped")
    assert refused.status_code == 400
    assert refused.json() == {"detail": "unknown state 'shiped': no merchant process has it"}
    for state in ("new", "returned", "arrived at distribution center"):  # in the processes
        known = get(api, keys.merchant_a, path, state=state)
        assert known.status_code == 200, (state, known.text)
    assert get(api, keys.merchant_a, path, state="new").json()["count"] >= 1
