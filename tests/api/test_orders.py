"""Operator reads: order summaries (paged, filtered) and the order document, which is exactly
what `oms show order --json` prints (the same query)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from sqlalchemy import Engine

from tests.api.conftest import Keys, token
from tests.api.server import ROOT, ApiServer
from tests.api.stored import example, fresh_channel, store

pytestmark = pytest.mark.services


def get(api: ApiServer, keys: Keys, path: str, **params: object) -> requests.Response:
    return requests.get(api.url + path, params=params, headers=token(keys.operator), timeout=30)


def test_order_document_is_the_cli_document(
    api: ApiServer, keys: Keys, api_db: Engine, postgres_url: str
) -> None:
    body = example()
    store(api_db, body)
    answer = get(api, keys, f"/api/v1/orders/{body['number']}/")
    assert answer.status_code == 200
    shown = subprocess.run(
        [sys.executable, "-m", "cli.main", "show", "order", body["number"], "--json"],
        env={**os.environ, "OMS_DATABASE_URL": postgres_url, "PYTHONPATH": str(ROOT)},
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    cli_document = json.loads(shown.stdout)
    if isinstance(cli_document, list):
        (cli_document,) = cli_document
    assert answer.json() == cli_document
    document = answer.json()
    assert document["totals"]["grand_total"] == 35590
    assert [mo["merchant_reference"] for mo in document["merchant_orders"]] == [
        "MER000002",
        "MER000005",
    ]
    # spec 9.5: each merchant order item says whether it reserves, in both documents alike
    items = [i for mo in document["merchant_orders"] for i in mo["merchant_order_items"]]
    assert [(i["state"], i["reserves"]) for i in items] == [("new", True)] * 3


def test_unknown_order_is_404(api: ApiServer, keys: Keys) -> None:
    answer = get(api, keys, "/api/v1/orders/NOT-THERE-1/")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "order NOT-THERE-1 not found"}


def test_a_number_in_two_channels_needs_the_channel(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    first, second = fresh_channel(), fresh_channel()
    number = example()["number"]
    store(api_db, example(number, first))
    store(api_db, example(number, second))
    ambiguous = get(api, keys, f"/api/v1/orders/{number}/")
    assert ambiguous.status_code == 409
    assert str(first) in ambiguous.json()["detail"] and "?channel=" in ambiguous.json()["detail"]
    one = get(api, keys, f"/api/v1/orders/{number}/", channel=second)
    assert one.status_code == 200
    assert one.json()["channel"]["id"] == second


def test_order_summaries_page_and_filter(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    channel = fresh_channel()
    numbers = [example(channel_id=channel)["number"] for _ in range(5)]
    for number in numbers:
        store(api_db, example(number, channel))
    first = get(api, keys, "/api/v1/orders/", channel=channel, limit=2)
    assert first.status_code == 200
    page = first.json()
    assert page["count"] == 5
    assert page["previous"] is None
    assert [o["number"] for o in page["results"]] == numbers[::-1][:2]  # newest first
    summary = page["results"][0]
    assert summary["channel"]["id"] == channel
    assert summary["status"] == "approved" and summary["status_code"] == 400
    assert summary["totals"]["grand_total"] == 35590
    assert summary["split"] is True
    # follow next to the last page, then previous back
    seen = [o["number"] for o in page["results"]]
    while page["next"]:
        page = requests.get(page["next"], headers=token(keys.operator), timeout=30).json()
        seen += [o["number"] for o in page["results"]]
    assert seen == numbers[::-1]
    assert page["next"] is None and "page=2" in page["previous"]
    assert get(api, keys, "/api/v1/orders/", channel=channel, status="500").json()["count"] == 0
    assert get(api, keys, "/api/v1/orders/", channel=channel, status="400").json()["count"] == 5
    later = get(api, keys, "/api/v1/orders/", channel=channel, created_from="2999-01-01T00:00:00Z")
    assert later.json() == {"count": 0, "next": None, "previous": None, "results": []}
    earlier = get(api, keys, "/api/v1/orders/", channel=channel, created_to="2000-01-01")
    assert earlier.json()["count"] == 0
    # an offset PostgreSQL would refuse (it takes up to 15:59) is read as UTC
    far = get(api, keys, "/api/v1/orders/", channel=channel, created_to="8377-04-23T22:57:07+20:10")
    assert far.status_code == 200 and far.json()["count"] == 5
    beyond = get(api, keys, "/api/v1/orders/", channel=channel, page=9, limit=2)
    assert beyond.status_code == 200
    assert beyond.json()["results"] == [] and "page=3" in beyond.json()["previous"]


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"status": "401"}, "query.status", "unknown order status '401'; a code or its name"),
        ({"limit": 0}, "query.limit", "greater than or equal to 1"),
        ({"limit": 101}, "query.limit", "less than or equal to 100"),
        ({"page": "two"}, "query.page", "valid integer"),
        ({"channel": 2**63}, "query.channel", "less than or equal to"),
        ({"created_from": "yesterday"}, "query.created_from", "ISO 8601"),
        ({"created_to": "0.5"}, "query.created_to", "ISO 8601"),
        ({"created_to": "2026-13-01"}, "query.created_to", "month"),
        ({"chanel": 42}, "query.chanel", "unknown query parameter"),
        ({"created_to": "0001-01-01T00:00:00+05:00"}, "query.created_to", "out of range"),
    ],
)
def test_invalid_query_names_the_field_and_the_rule(
    api: ApiServer, keys: Keys, params: dict[str, object], field: str, rule: str
) -> None:
    answer = get(api, keys, "/api/v1/orders/", **params)
    assert answer.status_code == 422
    problem = answer.json()
    assert [p["field"] for p in problem["errors"]] == [field]
    assert rule in problem["errors"][0]["rule"]
    assert problem["detail"].startswith(f"{field}: ")


def test_invalid_path_names_the_field(api: ApiServer, keys: Keys) -> None:
    answer = get(api, keys, "/api/v1/orders/" + "x" * 129 + "/")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "path.number"
