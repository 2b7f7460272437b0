"""The portal's order list query (adapters/queries/portal.py) on PostgreSQL: one merchant's
merchant orders only, newest first, filtered by item state, dates and reference, order number or
customer name (any case, any part, `%` and `_` taken literally); the count right on every page,
past the last one too; the timeline of one merchant order, and none of another merchant's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from adapters.persistence.engine import make_engine
from adapters.queries.portal import merchant_order_timeline, portal_order_page
from tests.api.stored import example, store

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    made = make_engine(postgres_url, pool_size=1)
    yield made
    made.dispose()


def _order(engine: Engine, merchant: str, last_name: str) -> str:
    body = example()
    body["customer"]["last_name"] = last_name
    for line in body["items"][:2]:
        line["merchant_reference"] = merchant
    body["expenses"][0]["merchant_reference"] = merchant
    store(engine, body)
    return f"{body['number']}--{merchant}"


def test_filters_order_and_counts(engine: Engine) -> None:
    merchant, other = f"MQ{uuid.uuid4().hex[:8]}", f"MQ{uuid.uuid4().hex[:8]}"
    refs = [_order(engine, merchant, name) for name in ("Kaya", "Demir_1", "Kaya%x")]
    theirs = _order(engine, other, "Kaya")
    page = portal_order_page(engine, merchant)
    assert page.count == 3 and [r.reference for r in page.rows] == refs[::-1]  # newest first
    assert theirs not in {r.reference for r in page.rows}
    row = page.rows[-1]
    assert (row.customer, row.channel, row.states) == ("Ayse Kaya", "Trendyol", ["new"])
    assert row.totals["grand_total"] == 15090

    def found(**filters: object) -> list[str]:
        got = portal_order_page(engine, merchant, **filters)  # type: ignore[arg-type]
        assert got.count == len(got.rows)
        return [r.reference for r in got.rows]

    assert found(search="KAYA") == [refs[2], refs[0]]
    assert found(search="ayse demir") == [refs[1]]  # first and last name together
    assert found(search="_") == [refs[1]] and found(search="%") == [refs[2]]  # literally
    assert found(search=refs[0].split("--")[0].lower()) == [refs[0]]  # the order number
    assert found(state="new") == refs[::-1] and found(state="closed") == []
    now = datetime.now(UTC)
    assert (
        found(created_from=now - timedelta(hours=1), created_to=now + timedelta(hours=1))
        == (refs[::-1])
    )
    assert found(created_from=now + timedelta(hours=1)) == []
    past = portal_order_page(engine, merchant, search="kaya", offset=5, limit=2)
    assert (past.count, past.rows) == (2, [])
    second = portal_order_page(engine, merchant, search="kaya", offset=1, limit=1)
    assert second.count == 2 and [r.reference for r in second.rows] == [refs[0]]


def test_timeline_is_the_merchant_orders_own(engine: Engine) -> None:
    merchant = f"MQ{uuid.uuid4().hex[:8]}"
    reference = _order(engine, merchant, "Yilmaz")
    timeline = merchant_order_timeline(engine, reference, merchant)
    assert timeline is not None
    assert [(e.event, e.to_state) for e in timeline] == [
        ("create", "created"), ("initiate", "new"), ("create", "created"), ("initiate", "new")
    ]  # fmt: skip
    assert merchant_order_timeline(engine, reference, "MER000005") is None
