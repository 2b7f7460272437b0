"""The read path's budget (issue 22): each API read sends at most two SQL statements, plus the
key's lookup at most (counted with SQLAlchemy's `before_cursor_execute`); a key's answer is
kept a second at most, so a revoked key is refused within a second; /healthz answers from a
state refreshed in the background."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from adapters.persistence.api_tokens import (
    MERCHANT,
    OPERATOR,
    SELECT_PRINCIPAL,
    KeyCache,
    create_token,
    revoke_token,
)
from adapters.persistence.statement_count import StatementCounter
from adapters.settings import Settings
from api.app import create_app
from api.context import ApiContext
from api.health import HealthState
from tests.api.stored import example, store

pytestmark = pytest.mark.services
BUDGET = 2


class App:
    def __init__(self, client: TestClient, ctx: ApiContext, operator: str, merchant: str):
        self.client, self.ctx = client, ctx
        self.operator, self.merchant = operator, merchant

    def get(self, path: str, key: str) -> tuple[Any, list[str]]:
        with StatementCounter(self.ctx.engine, self.ctx.reads, self.ctx.awaited_reads) as counted:
            answer = self.client.get(path, headers={"Authorization": f"Token {key}"})
        assert answer.status_code == 200, answer.text
        return answer.json(), counted.statements


@pytest.fixture(scope="module")
def app(api_db: Engine, postgres_url: str) -> Iterator[App]:
    settings = Settings(database_url=postgres_url, api_allowed_hosts=("testserver",))
    ctx = ApiContext(settings)
    _, operator = create_token(api_db, kind=OPERATOR, name="read-path")
    _, merchant = create_token(
        api_db, kind=MERCHANT, name="read-path", merchant_reference="MER000002"
    )
    with TestClient(create_app(ctx)) as client:
        yield App(client, ctx, operator, merchant)


def is_key_lookup(statement: str) -> bool:
    """The key's lookup, as SQL or as the EXECUTE of its prepared statement (PostgreSQL)."""
    return "FROM api_tokens" in statement or SELECT_PRINCIPAL.prepared().name in statement


def reads(number: str) -> list[tuple[str, str]]:
    reference = quote(f"{number}--MER000002", safe="")
    return [
        (f"/api/v1/merchant/orders/{reference}/", "merchant"),
        ("/api/v1/merchant/orders/?limit=20", "merchant"),
        (f"/api/v1/orders/{number}/", "operator"),
        (f"/api/v1/orders/{reference}/", "operator"),  # found by merchant order reference
        ("/api/v1/orders/?limit=20", "operator"),
        (f"/api/v1/orders/{number}/history/", "operator"),
    ]


def test_each_read_sends_at_most_two_statements_and_the_key_lookup(
    app: App, api_db: Engine
) -> None:
    number = example()["number"]
    for _ in range(3):  # a page of several merchant orders, each with its items
        store(api_db, example())
    store(api_db, example(number))
    for path, who in reads(number):
        key = app.operator if who == "operator" else app.merchant
        app.get(path, key)  # the processes' rows, read once per process and engine
        app.ctx.keys = KeyCache()  # as when its second has passed: the lookup is counted
        _, statements = app.get(path, key)
        lookups = [s for s in statements if is_key_lookup(s)]
        reads_made = [s for s in statements if not is_key_lookup(s)]
        assert len(lookups) == 1, (path, statements)
        assert 1 <= len(reads_made) <= BUDGET, (path, reads_made)
        _, again = app.get(path, key)  # within the second: the key is not looked up again
        assert len(again) == len(reads_made), (path, again)
        assert not any("ROLLBACK" in s or "BEGIN" in s for s in statements)


def test_reads_open_no_transaction(app: App) -> None:
    """The read engine's connections are in autocommit: a read leaves no transaction open, so
    its connection returns to the pool with no ROLLBACK (psycopg2 sends none outside one)."""
    with app.ctx.reads.connect() as connection:
        connection.exec_driver_sql("SELECT 1").scalar_one()
        raw: Any = connection.connection.dbapi_connection
        assert raw.autocommit is True
        assert raw.info.transaction_status == 0  # psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_the_order_read_is_the_same_document_as_before_the_read_model(
    app: App, api_db: Engine
) -> None:
    """Fields the read model assembles from rows, checked against the stored example."""
    body = example()
    store(api_db, body)
    document, _ = app.get(f"/api/v1/orders/{body['number']}/", app.operator)
    assert [i["id"] for i in document["items"]] == [i["id"] for i in body["items"]]
    assert [mo["reference"] for mo in document["merchant_orders"]] == [
        f"{body['number']}--MER000002",
        f"{body['number']}--MER000005",
    ]
    assert [p["merchant_order"] for p in document["packages"]] == [
        mo["reference"] for mo in document["merchant_orders"]
    ]
    for package, mo in zip(document["packages"], document["merchant_orders"], strict=True):
        assert [i["order_item_id"] for i in package["items"]] == [
            i["omnitron_item_id"] for i in mo["merchant_order_items"]
        ]
        assert package["status"] == "waiting" and package["shipment"] is None
    assert document["totals"] == {
        name: sum(mo["totals"][name] for mo in document["merchant_orders"])
        + document["marketplace_expenses"][name]
        for name in document["totals"]
    }


def test_a_revoked_key_is_refused_within_a_second(app: App, api_db: Engine) -> None:
    token_id, key = create_token(api_db, kind=OPERATOR, name="soon revoked")
    headers = {"Authorization": f"Token {key}"}
    assert app.client.get("/api/v1/orders/?limit=1", headers=headers).status_code == 200
    assert revoke_token(api_db, token_id)
    time.sleep(1.05)
    assert app.client.get("/api/v1/orders/?limit=1", headers=headers).status_code == 401


def test_health_is_answered_from_the_state_the_background_refreshes() -> None:
    calls: list[float] = []
    verdicts = iter(["ok", "ok", "down: OperationalError"] + ["ok"] * 1000)
    lock = threading.Lock()

    def check() -> dict[str, str]:
        with lock:
            calls.append(time.monotonic())
            return {"database": next(verdicts), "broker": "ok"}

    state = HealthState(check, interval=0.2)
    assert state.latest() is None
    assert state.first() == {"database": "ok", "broker": "ok"}  # the first probe waits for it
    for _ in range(50):  # probes in between cost no check
        assert state.latest() is not None
    assert len(calls) == 1
    deadline = time.monotonic() + 5
    while state.latest() != {"database": "down: OperationalError", "broker": "ok"}:
        assert time.monotonic() < deadline, "the background never refreshed the state"
        time.sleep(0.05)
    state.stop()
    assert len(calls) >= 3
