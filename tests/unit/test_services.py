"""Use cases against an in-memory unit of work (cosmicpython style fakes of the ports)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from domain import services
from domain.errors import UnknownOrder
from domain.messages import OutboxMessage, SplitOrder
from domain.model import Channel, Expense, Order, OrderItem, Product
from domain.statuses import OrderStatus, PackageStatus
from tests.unit.fakes import ExplodingMerchantOrders, FakeUnitOfWork

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _item(omnitron_id: int, merchant: str, price: int, quantity: int = 1) -> OrderItem:
    return OrderItem(
        omnitron_id=omnitron_id,
        product=Product(f"SKU-{omnitron_id}", "Product"),
        merchant_reference=merchant,
        price=price,
        tax_rate=Fraction(20),
        quantity=quantity,
    )


def _order(number: str = "TY-100042") -> Order:
    return Order(
        channel=Channel(42, "Trendyol", "trendyol"),
        number=number,
        status=OrderStatus.approved,
        date_placed=NOW,
        currency="try",
        items=[
            _item(5001, "MER000002", 10000),
            _item(5002, "MER000002", 2500, quantity=2),
            _item(5003, "MER000005", 20000),
        ],
        expenses=[
            Expense("shipping", "MER000002 shipping", 590, Fraction(20), "MER000002"),
            Expense("shipping", "Marketplace shipping", 500, Fraction(20)),
        ],
    )


def _ingested(uow: FakeUnitOfWork) -> int:
    result = services.ingest_order(_order(), uow)
    assert result.order_id is not None
    return result.order_id


# --- ingest_order ----------------------------------------------------------------------------


def test_ingest_stores_the_order_and_its_channel_and_asks_for_a_split() -> None:
    uow = FakeUnitOfWork()
    result = services.ingest_order(_order(), uow)
    assert result.created
    assert result.order_id is not None
    stored = uow.orders.orders[result.order_id]
    assert stored.number == "TY-100042"
    assert [i.omnitron_id for i in stored.items] == [5001, 5002, 5003]
    assert uow.channels.channels == {42: Channel(42, "Trendyol", "trendyol")}
    assert [m.command for m in uow.outbox.messages] == [SplitOrder(order_id=result.order_id)]
    assert uow.committed


def test_ingest_computes_the_order_totals_from_the_lines() -> None:
    uow = FakeUnitOfWork()
    order_id = _ingested(uow)
    totals = uow.orders.orders[order_id].totals
    assert totals.subtotal == 35000
    assert totals.expense_total == 1090
    assert totals.grand_total == 36090


def test_the_same_order_twice_creates_nothing_new() -> None:
    uow = FakeUnitOfWork()
    first = services.ingest_order(_order(), uow)
    second = services.ingest_order(_order(), uow)
    assert first.created
    assert not second.created
    assert len(uow.orders.orders) == 1
    assert len(uow.outbox.messages) == 1
    assert len(uow.channels.channels) == 1


def test_same_number_on_another_channel_is_another_order() -> None:
    uow = FakeUnitOfWork()
    services.ingest_order(_order(), uow)
    other = _order()
    other.channel = Channel(43, "Hepsiburada", "hepsiburada")
    assert services.ingest_order(other, uow).created
    assert len(uow.outbox.messages) == 2
    assert set(uow.channels.channels) == {42, 43}


# --- split_order -----------------------------------------------------------------------------


def test_split_creates_one_merchant_order_and_one_waiting_package_per_merchant() -> None:
    uow = FakeUnitOfWork()
    order_id = _ingested(uow)
    uow.committed = False

    result = services.split_order(order_id, uow, clock=lambda: NOW)

    assert result.created
    assert uow.committed
    assert uow.orders.orders[order_id].split
    assert order_id in uow.orders.locked
    stored = uow.merchant_orders.for_order(order_id)
    assert stored == result.merchant_orders
    assert [(mo.reference, mo.merchant_reference) for mo in stored] == [
        ("TY-100042--MER000002", "MER000002"),
        ("TY-100042--MER000005", "MER000005"),
    ]
    for mo in stored:
        assert mo.channel_id == 42
        assert mo.package.status is PackageStatus.waiting
        assert mo.package.number == mo.reference
        assert mo.package.created_at == NOW
        assert all(pi.status is PackageStatus.waiting for pi in mo.package.items)
    items = {i.omnitron_id: i for i in uow.orders.orders[order_id].items}
    package_items = [
        [(pi.omnitron_item_id, pi.order_item_id, pi.quantity) for pi in mo.package.items]
        for mo in stored
    ]
    assert package_items == [
        [(5001, items[5001].id, 1), (5002, items[5002].id, 2)],
        [(5003, items[5003].id, 1)],
    ]
    assert [mo.totals.grand_total for mo in stored] == [15590, 20000]


def test_split_twice_creates_nothing_the_second_time() -> None:
    uow = FakeUnitOfWork()
    order_id = _ingested(uow)
    services.split_order(order_id, uow, clock=lambda: NOW)
    commits = uow.commits

    again = services.split_order(order_id, uow, clock=lambda: NOW)

    assert not again.created
    assert again.merchant_orders == []
    assert len(uow.merchant_orders.merchant_orders) == 2
    assert uow.commits == commits


def test_split_of_an_unknown_order_is_rejected() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(UnknownOrder, match="999"):
        services.split_order(999, uow)
    assert not uow.committed
    assert uow.merchant_orders.merchant_orders == []


def test_a_failure_inside_split_leaves_the_unit_of_work_uncommitted() -> None:
    uow = FakeUnitOfWork()
    order_id = _ingested(uow)
    uow.committed = False
    rollbacks = uow.rollbacks
    uow.merchant_orders = ExplodingMerchantOrders()

    with pytest.raises(RuntimeError, match="database went away"):
        services.split_order(order_id, uow, clock=lambda: NOW)

    assert not uow.committed
    assert uow.rollbacks == rollbacks + 1
    assert not uow.orders.orders[order_id].split


def test_leaving_the_unit_of_work_without_commit_rolls_back() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.outbox.add(OutboxMessage(SplitOrder(order_id=1)))
    assert uow.rollbacks == 1
    assert not uow.committed


def test_outbox_messages_get_distinct_ids() -> None:
    uow = FakeUnitOfWork()
    services.ingest_order(_order("A"), uow)
    services.ingest_order(_order("B"), uow)
    ids = [m.message_id for m in uow.outbox.messages]
    assert len(ids) == len(set(ids)) == 2
    assert [m.command.payload() for m in uow.outbox.messages] == [
        {"order_id": 1},
        {"order_id": 2},
    ]
