"""The merchant portal's reads (spec section 11, seed 000) and its authorization: a merchant key
sees its own merchant orders only; another merchant's merchant order answers exactly what a
missing one answers; an operator key is refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from adapters.messaging.message_ids import new_message_id
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain.merchant_events import MerchantEvent, trigger_merchant_event
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer
from tests.api.stored import example, store
from tests.api.test_auth_matrix import call, unauthenticated

pytestmark = pytest.mark.services
A, B = "MER000002", "MER000005"


def merchant_paths(reference: str) -> list[tuple[str, str, Any]]:
    base = f"/api/v1/merchant/orders/{reference}/"
    return [
        ("GET", base, None),
        # an unknown event: answered before anything is published (no worker needed)
        ("POST", base + "events/", {"event": "no such event"}),
        # an id the API made: pending while it has no outcome (any other id is a 404)
        ("GET", f"{base}events/{new_message_id()}/", None),
    ]


def answer_bytes(answer: requests.Response) -> tuple[int, bytes, str, str]:
    return (
        answer.status_code,
        answer.content,
        answer.headers["content-type"],
        answer.headers["content-length"],
    )


def test_merchant_endpoint_authorization_matrix(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    body = example()
    reference = f"{body['number']}--{A}"
    paths = [("GET", "/api/v1/merchant/orders/", None), *merchant_paths(reference)]
    # what merchant B gets for this reference while no merchant order has it
    missing = {(m, p): call(api, m, p, b, token(keys.merchant_b)) for m, p, b in paths[1:]}
    for answer in missing.values():
        assert answer.status_code == 404
        assert answer.json() == {"detail": f"merchant order {reference} not found"}
    store(api_db, body)

    for method, path, payload in paths:
        for who, headers in unauthenticated(keys).items():
            answer = call(api, method, path, payload, headers)
            assert answer.status_code == 401, (who, path, answer.text)
            assert answer.headers["WWW-Authenticate"] == "Token"
        operator = call(api, method, path, payload, token(keys.operator))
        assert operator.status_code == 403, (path, operator.text)
        assert operator.json() == {"detail": "this endpoint needs a merchant token"}

    own = {(m, p): call(api, m, p, b, token(keys.merchant_a)) for m, p, b in paths}
    statuses = [own[(m, p)].status_code for m, p, _ in paths]
    assert statuses == [200, 200, 400, 200], [a.text for a in own.values()]
    assert own[paths[1][:2]].json()["reference"] == reference
    assert own[paths[2][:2]].json() == {"detail": "unknown event 'no such event'"}
    assert own[paths[3][:2]].json()["status"] == "pending"
    listed = own[paths[0][:2]].json()["results"]
    assert reference in [r["reference"] for r in listed]

    # merchant B: byte for byte what it got before the merchant order existed
    for method, path, payload in paths[1:]:
        foreign = call(api, method, path, payload, token(keys.merchant_b))
        assert answer_bytes(foreign) == answer_bytes(missing[(method, path)]), path
    theirs = call(api, "GET", "/api/v1/merchant/orders/", None, token(keys.merchant_b)).json()
    assert reference not in json.dumps(theirs)
    assert f"{body['number']}--{B}" in [r["reference"] for r in theirs["results"]]


def test_every_merchant_operation_is_in_the_matrix(api: ApiServer) -> None:
    document = requests.get(api.url + "/api/v1/openapi.json", timeout=30).json()
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/api/v1/merchant/")
    }
    # the merchant's reservations have their own matrix (test_reservations_api.py)
    covered = {("GET", "/api/v1/merchant/orders/"), ("GET", "/api/v1/merchant/reservations/")} | {
        (m, p.replace("REF", "{reference}").rsplit("events/", 1)[0] + "events/{event_id}/")
        if p.count("/") == 8
        else (m, p.replace("REF", "{reference}"))
        for m, p, _ in merchant_paths("REF")
    }
    assert documented == covered


def get(api: ApiServer, key: str, path: str, **params: object) -> requests.Response:
    return requests.get(api.url + path, params=params, headers=token(key), timeout=30)


def test_detail_has_the_four_blocks_and_nothing_of_others(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    body = example()
    store(api_db, body)
    kettle, mug, lamp = (item["id"] for item in body["items"])
    reference = f"{body['number']}--{A}"
    answer = get(api, keys.merchant_a, f"/api/v1/merchant/orders/{reference}/")
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert set(page) == {
        "reference", "merchant_reference", "order_number", "currency", "created_at",
        "customer", "shipment", "overview", "totals",
    }  # fmt: skip
    assert page["reference"] == reference and page["merchant_reference"] == A
    assert page["order_number"] == body["number"] and page["currency"] == "try"
    assert page["customer"] == {
        "first_name": "Ayse",
        "last_name": "Yilmaz",
        "email": "ayse@example.com",
    }
    assert page["shipment"] == {
        "address": body["shipping_address"],
        "package_number": reference,
        "package_status": "waiting",
        "package_status_code": 100,
        "tracking_number": "7330012345",
        "cargo_company": {"id": 1, "name": "Trendyol Express", "erp_code": "trendyol-express"},
    }
    overview = page["overview"]
    assert overview["states"] == ["new"]
    assert overview["manual_events"] == ["cancel by merchant"]  # no `ship` on a marketplace item
    assert [
        (i["reference"], i["omnitron_item_id"], i["sku"], i["name"], i["quantity"], i["price"])
        for i in overview["items"]
    ] == [
        (f"{reference}--{kettle}", kettle, "SKU-KETTLE", "Kettle", 1, 10000),
        (f"{reference}--{mug}", mug, "SKU-MUG", "Mug", 2, 2500),
    ]
    assert {i["state"] for i in overview["items"]} == {"new"}
    assert all(i["manual_events"] == ["cancel by merchant"] for i in overview["items"])
    assert page["totals"]["grand_total"] == 15090 and page["totals"]["expense_total"] == 590
    # nothing of merchant B, no marketplace-order totals (the order's grand total is 35590)
    text = answer.text
    for foreign in (B, "SKU-LAMP", "Desk lamp", str(lamp), "35590", "20000"):
        assert foreign not in text, foreign


def test_list_filters_and_pages(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    since = datetime.now(UTC).isoformat()
    bodies = [example() for _ in range(3)]
    for body in bodies:
        store(api_db, body)
    until = datetime.now(UTC).isoformat()
    newest_first = [f"{b['number']}--{A}" for b in reversed(bodies)]
    mug = f"{bodies[0]['number']}--{A}--{bodies[0]['items'][1]['id']}"
    done = trigger_merchant_event(
        MerchantEvent(A, f"{bodies[0]['number']}--{A}", "cancel by merchant", (mug,)),
        SqlUnitOfWork(api_db),
    )
    assert [r.outcome.value for r in done.records] == ["applied"]

    path = "/api/v1/merchant/orders/"
    window = {"created_from": since, "created_to": until}
    first = get(api, keys.merchant_a, path, limit=2, **window).json()
    assert first["count"] == 3 and first["previous"] is None
    assert [r["reference"] for r in first["results"]] == newest_first[:2]
    row = first["results"][0]
    assert set(row) == {
        "reference", "order_number", "currency", "created_at", "states", "manual_events", "totals"
    }  # fmt: skip
    assert row["order_number"] == bodies[2]["number"]
    assert row["states"] == ["new"] and row["manual_events"] == ["cancel by merchant"]
    assert row["totals"]["grand_total"] == 15090
    second = requests.get(first["next"], headers=token(keys.merchant_a), timeout=30).json()
    assert [r["reference"] for r in second["results"]] == newest_first[2:]
    assert second["next"] is None and "page=1" in second["previous"]
    cancelled = second["results"][0]
    assert cancelled["states"] == ["canceled by merchant", "new"]
    assert cancelled["manual_events"] == ["cancel by merchant", "close"]

    by_state = get(api, keys.merchant_a, path, state="canceled by merchant", **window).json()
    assert [r["reference"] for r in by_state["results"]] == newest_first[2:]
    assert get(api, keys.merchant_a, path, state="new", **window).json()["count"] == 3
    assert get(api, keys.merchant_a, path, state="shipped", **window).json()["count"] == 0
    later = get(api, keys.merchant_a, path, created_from="2999-01-01")
    assert later.json() == {"count": 0, "next": None, "previous": None, "results": []}
    # merchant B sees its own three merchant orders in the window, never A's
    theirs = get(api, keys.merchant_b, path, **window).json()
    assert [r["reference"] for r in theirs["results"]] == [
        f"{b['number']}--{B}" for b in reversed(bodies)
    ]


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"state": ""}, "query.state", "at least 1 character"),
        ({"state": "x\x01"}, "query.state", "pattern"),
        ({"limit": 101}, "query.limit", "less than or equal to 100"),
        ({"created_from": "soon"}, "query.created_from", "ISO 8601"),
        ({"status": "400"}, "query.status", "unknown query parameter"),
    ],
)
def test_invalid_list_query_names_the_field(
    api: ApiServer, keys: Keys, params: dict[str, object], field: str, rule: str
) -> None:
    answer = get(api, keys.merchant_a, "/api/v1/merchant/orders/", **params)
    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["errors"]] == [field]
    assert rule in answer.json()["errors"][0]["rule"]


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({}, "body.event", "Field required"),
        ({"event": ""}, "body.event", "at least 1 character"),
        ({"event": 5}, "body.event", "valid string"),
        ({"event": "ship", "item_references": []}, "body.item_references", "at least 1 item"),
        ({"event": "ship", "item_references": "x"}, "body.item_references", "valid list"),
        ({"event": "ship", "merchant_reference": B}, "body.merchant_reference", "not permitted"),
        ({"event": "ship", "source": "poll"}, "body.source", "not permitted"),
        # the queue's schema refuses C1 controls too (spec 9.3): refused here, not a 500 later
        ({"event": "ship\x85"}, "body.event", "pattern"),
        (
            {"event": "ship", "item_references": ["R--M--1\x9b"]},
            "body.item_references[0]",
            "pattern",
        ),
    ],
)
def test_invalid_event_body_names_the_field(
    api: ApiServer, keys: Keys, body: dict[str, object], field: str, rule: str
) -> None:
    path = "/api/v1/merchant/orders/ANY--MER000002/events/"
    answer = requests.post(api.url + path, json=body, headers=token(keys.merchant_a), timeout=30)
    assert answer.status_code == 422, answer.text
    assert [p["field"] for p in answer.json()["errors"]] == [field]
    assert rule in answer.json()["errors"][0]["rule"]


def test_event_status_of_an_id_never_published_is_404(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    body = example()
    store(api_db, body)
    base = f"/api/v1/merchant/orders/{body['number']}--{A}/events/"
    unknown = str(uuid.uuid4())
    answer = get(api, keys.merchant_a, f"{base}{unknown}/")
    assert answer.status_code == 404
    assert answer.json() == {"detail": f"event {unknown} not found"}
    made = new_message_id()
    assert get(api, keys.merchant_a, f"{base}{made}/").json()["status"] == "pending"
