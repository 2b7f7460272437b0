"""Repositories and the unit of work on a real database (PostgreSQL and SQLite)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import services
from domain.errors import ConflictingOrderItems
from domain.model import Order
from domain.statuses import PackageStatus
from schemas.convert import parse_inbound_order

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "order-two-merchants.json"


def example_order(number: str | None = None, first_item_id: int | None = None) -> Order:
    body = json.loads(EXAMPLE.read_text())
    body["number"] = number or f"IT-{uuid.uuid4().hex[:8]}"
    base = first_item_id or uuid.uuid4().int % 10**12
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
    return parse_inbound_order(body, "MAIN")


def count(engine: Engine, table: t.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_an_order_round_trips_with_lines_and_totals(engine: Engine) -> None:
    order = example_order()
    result = services.ingest_order(order, SqlUnitOfWork(engine))
    assert result.created and result.order_id is not None

    with SqlUnitOfWork(engine) as uow:
        stored = uow.orders.get(result.order_id)
    assert stored is not None
    assert (stored.channel, stored.number, stored.currency) == (order.channel, order.number, "try")
    assert [
        (i.omnitron_id, i.price, i.quantity, i.discount_amount, i.tax_rate) for i in stored.items
    ] == [(i.omnitron_id, i.price, i.quantity, i.discount_amount, i.tax_rate) for i in order.items]
    assert [(e.amount, e.merchant_reference) for e in stored.expenses] == [
        (590, "MER000002"),
        (500, None),
    ]
    assert stored.totals.grand_total == 35590
    assert stored.customer == order.customer and not stored.split


def test_the_same_order_twice_stores_nothing_new(engine: Engine) -> None:
    order = example_order()
    assert services.ingest_order(order, SqlUnitOfWork(engine)).created
    before = (count(engine, t.orders), count(engine, t.order_items), count(engine, t.outbox))
    again = example_order(order.number, order.items[0].omnitron_id)
    assert not services.ingest_order(again, SqlUnitOfWork(engine)).created
    assert (
        count(engine, t.orders),
        count(engine, t.order_items),
        count(engine, t.outbox),
    ) == before


def test_item_ids_of_another_order_are_refused_and_nothing_is_stored(engine: Engine) -> None:
    first = example_order()
    services.ingest_order(first, SqlUnitOfWork(engine))
    before = count(engine, t.orders)
    thief = example_order(first_item_id=first.items[0].omnitron_id)
    with pytest.raises(ConflictingOrderItems):
        services.ingest_order(thief, SqlUnitOfWork(engine))
    assert count(engine, t.orders) == before


def test_split_stores_merchant_orders_packages_and_items_once(engine: Engine) -> None:
    order_id = services.ingest_order(example_order(), SqlUnitOfWork(engine)).order_id
    assert order_id is not None
    assert services.split_order(order_id, SqlUnitOfWork(engine)).created
    assert not services.split_order(order_id, SqlUnitOfWork(engine)).created

    with SqlUnitOfWork(engine) as uow:
        merchant_orders = uow.merchant_orders.for_order(order_id)
        stored = uow.orders.get(order_id)
    assert stored is not None and stored.split
    assert [(mo.merchant_reference, mo.totals.grand_total) for mo in merchant_orders] == [
        ("MER000002", 15090),
        ("MER000005", 20000),
    ]
    assert [mo.package.status for mo in merchant_orders] == [PackageStatus.waiting] * 2
    assert [
        [(i.omnitron_item_id, i.quantity) for i in mo.package.items] for mo in merchant_orders
    ] == [
        [(stored.items[0].omnitron_id, 1), (stored.items[1].omnitron_id, 2)],
        [(stored.items[2].omnitron_id, 1)],
    ]


def test_leaving_the_unit_of_work_without_commit_rolls_back(engine: Engine) -> None:
    before = count(engine, t.orders)
    with SqlUnitOfWork(engine) as uow:
        order = example_order()
        uow.channels.add_if_missing(order.channel)
        assert uow.orders.add(order)
    assert count(engine, t.orders) == before


def test_find_by_number_across_channels(engine: Engine) -> None:
    number = f"IT-{uuid.uuid4().hex[:8]}"
    first = example_order(number)
    second = example_order(number)
    second.channel = type(second.channel)(99, "Other", "n11")
    services.ingest_order(first, SqlUnitOfWork(engine))
    services.ingest_order(second, SqlUnitOfWork(engine))
    with SqlUnitOfWork(engine) as uow:
        assert [o.channel.id for o in uow.orders.find(number)] == [42, 99]
        assert [o.channel.id for o in uow.orders.find(number, channel_id=99)] == [99]
