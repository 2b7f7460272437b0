"""Merchant events through the use cases, on the in-memory fakes (spec 9.1, 9.3, 9.4)."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from domain import services
from domain.merchant_events import (
    MerchantEvent,
    NotSplitYet,
    channel_update,
    fire_for_packages,
    trigger_merchant_event,
)
from domain.merchant_oms import MAIN_PROCESS, Outcome, Source
from domain.messages import SendStatusReport
from domain.model import Channel, Expense, MerchantOrder, Order, OrderItem, Product
from domain.splitting import marketplace_expenses
from domain.statuses import OrderStatus, PackageStatus
from domain.totals import totals_of
from tests.unit.fakes import FakeUnitOfWork

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MO2, MO5 = "TY-100042--MER000002", "TY-100042--MER000005"


def _item(omnitron_id: int, merchant: str, price: int, quantity: int = 1, discount: int = 0,
          status: OrderStatus = OrderStatus.approved) -> OrderItem:  # fmt: skip
    return OrderItem(
        omnitron_id=omnitron_id,
        product=Product(f"SKU-{omnitron_id}", "Product"),
        merchant_reference=merchant,
        price=price,
        tax_rate=Fraction(20),
        quantity=quantity,
        discount_amount=discount,
        status=status,
    )


def example(channel_type: str = "trendyol", **statuses: OrderStatus) -> Order:
    """examples/order-two-merchants.json (spec 4 and 9.4)."""
    return Order(
        channel=Channel(42, "Trendyol", channel_type),
        number="TY-100042",
        status=OrderStatus.approved,
        date_placed=NOW,
        currency="try",
        items=[
            _item(5001, "MER000002", 10000, status=statuses.get("i5001", OrderStatus.approved)),
            _item(5002, "MER000002", 2500, 2, 500, statuses.get("i5002", OrderStatus.approved)),
            _item(5003, "MER000005", 20000, status=statuses.get("i5003", OrderStatus.approved)),
        ],
        expenses=[
            Expense("shipping", "MER000002 shipping", 590, Fraction(20), "MER000002"),
            Expense("shipping", "Marketplace shipping", 500, Fraction(20)),
        ],
    )


def split(order: Order, main: str = "MAIN") -> tuple[FakeUnitOfWork, int]:
    uow = FakeUnitOfWork()
    result = services.ingest_order(order, uow)
    assert result.order_id is not None
    services.split_order(result.order_id, uow, clock=lambda: NOW, main_merchant=main)
    return uow, result.order_id


def mo(uow: FakeUnitOfWork, reference: str) -> MerchantOrder:
    return next(m for m in uow.merchant_orders.merchant_orders if m.reference == reference)


def event(
    name: str,
    mo_ref: str = MO2,
    merchant: str = "MER000002",
    items: tuple[str, ...] | None = None,
    source: Source = Source.merchant,
) -> MerchantEvent:
    return MerchantEvent(merchant, mo_ref, name, items, source)


def assert_identity(uow: FakeUnitOfWork, order_id: int) -> None:
    order = uow.orders.orders[order_id]
    parts = [m.totals for m in uow.merchant_orders.for_order(order_id)]
    market = totals_of([], marketplace_expenses(order))
    assert order.totals == sum(parts, market)
    assert order.totals == totals_of(order.items, order.expenses)


# --- split (spec 9.1) ------------------------------------------------------------------------


def test_split_creates_one_merchant_order_item_per_order_item_in_new_and_logs_both_steps() -> None:
    uow, _ = split(example())
    items = mo(uow, MO2).items
    assert [(i.reference, i.omnitron_item_id, i.state) for i in items] == [
        (f"{MO2}--5001", 5001, "new"),
        (f"{MO2}--5002", 5002, "new"),
    ]
    assert {i.process for i in items} == {"MerchantDefaultStateMachine"}
    log = [(r.item_reference, r.event, r.from_state, r.to_state) for r in uow.merchant_log.records]
    assert log[:2] == [
        (f"{MO2}--5001", "create", None, "created"),
        (f"{MO2}--5001", "initiate", "created", "new"),
    ]
    assert len(log) == 6
    assert set(uow.merchants.merchants) == {"MER000002", "MER000005"}


def test_the_main_merchant_gets_the_main_process() -> None:
    uow, _ = split(example(), main="MER000005")
    assert {i.process for i in mo(uow, MO5).items} == {MAIN_PROCESS}
    assert uow.merchants.merchants["MER000005"].oms_process == MAIN_PROCESS


def test_items_that_arrive_cancelled_or_refunded_start_so_and_get_no_package_item() -> None:
    uow, _ = split(example(i5001=OrderStatus.cancelled, i5003=OrderStatus.refunded))
    assert [i.state for i in mo(uow, MO2).items] == ["canceled", "new"]
    package = mo(uow, MO2).package
    assert package is not None and [pi.omnitron_item_id for pi in package.items] == [5002]
    # every item of MER000005 arrived refunded: no package at all
    assert [i.state for i in mo(uow, MO5).items] == ["refunded"]
    assert mo(uow, MO5).package is None
    starts = [r for r in uow.merchant_log.records if r.item_reference.endswith("--5003")]
    assert [(r.event, r.to_state) for r in starts] == [("create", "refunded")]


# --- the worked example of spec 9.4 ----------------------------------------------------------


def test_worked_example_of_spec_9_4_exactly() -> None:
    uow, order_id = split(example())
    result = trigger_merchant_event(
        event("cancel by merchant", items=(f"{MO2}--5002",)), uow, "m-1", clock=lambda: NOW
    )
    assert [(r.outcome, r.from_state, r.to_state) for r in result.records] == [
        (Outcome.applied, "new", "canceled by merchant")
    ]
    t2 = mo(uow, MO2).totals
    assert (t2.subtotal, t2.expense_total, t2.discount_total) == (15000, 590, 500)
    assert (t2.canceled_total, t2.tax_total, t2.grand_total) == (4500, 1765, 10590)
    order = uow.orders.orders[order_id]
    assert (order.totals.canceled_total, order.totals.tax_total) == (4500, 5181)
    assert order.totals.grand_total == 31090 == 10590 + 20000 + 500
    assert_identity(uow, order_id)

    trigger_merchant_event(event("cancel by merchant", items=(f"{MO2}--5001",)), uow, "m-2")
    t2 = mo(uow, MO2).totals
    assert (t2.canceled_total, t2.tax_total, t2.grand_total) == (15090, 0, 0)
    assert order.totals.grand_total == 20500
    assert [e.canceled for e in order.expenses] == [True, False]  # marketplace's stays
    assert_identity(uow, order_id)


def test_cancel_moves_order_item_package_item_and_reports_100_for_marketplace_orders() -> None:
    uow, order_id = split(example())
    trigger_merchant_event(event("cancel by merchant", items=(f"{MO2}--5002",)), uow, "m-1")
    order = uow.orders.orders[order_id]
    assert [i.status for i in order.items] == [
        OrderStatus.approved,
        OrderStatus.cancelled,
        OrderStatus.approved,
    ]
    package = mo(uow, MO2).package
    assert package is not None and package.status is PackageStatus.waiting
    assert [pi.status for pi in package.items] == [PackageStatus.waiting, PackageStatus.cancelled]
    (report,) = uow.reports.reports
    assert (report.package_id, report.status, report.item_ids) == (
        package.id,
        OrderStatus.cancelled,
        [5002],
    )
    assert [m.command for m in uow.outbox.messages][-1] == SendStatusReport(report_id=1)
    trigger_merchant_event(event("cancel by merchant"), uow, "m-2")  # the rest of MO2
    assert package.status is PackageStatus.cancelled
    assert uow.packages.locked == [package.id, package.id]


def test_the_last_live_item_of_the_order_takes_the_marketplace_expenses_with_it() -> None:
    uow, order_id = split(example())
    trigger_merchant_event(event("cancel by merchant"), uow, "m-1")
    trigger_merchant_event(event("cancel by merchant", MO5, "MER000005"), uow, "m-2")
    order = uow.orders.orders[order_id]
    assert all(e.canceled for e in order.expenses)
    assert order.totals.grand_total == 0
    assert order.totals.canceled_total == 35590  # every line's price to pay
    assert order.status is OrderStatus.cancelled
    assert_identity(uow, order_id)


def test_no_cancel_once_packed() -> None:
    uow, order_id = split(example())
    package = mo(uow, MO2).package
    assert package is not None
    package.status = PackageStatus.packed
    result = trigger_merchant_event(event("cancel by merchant"), uow, "m-1")
    assert {r.outcome for r in result.records} == {Outcome.rejected}
    assert "is packed; a packed item is returned after delivery" in result.records[0].reason
    assert {i.state for i in mo(uow, MO2).items} == {"new"}
    assert uow.orders.orders[order_id].totals.canceled_total == 0
    assert uow.reports.reports == []


def test_refund_after_delivery_reports_600_and_recomputes_totals() -> None:
    uow, order_id = split(example())
    for item in mo(uow, MO5).items:
        item.state = "delivered"
    result = trigger_merchant_event(event("refund", MO5, "MER000005"), uow, "m-1")
    assert [(r.outcome, r.to_state) for r in result.records] == [(Outcome.applied, "refunded")]
    order = uow.orders.orders[order_id]
    assert order.items[2].status is OrderStatus.refunded
    assert mo(uow, MO5).totals.refund_total == 20000
    assert mo(uow, MO5).totals.grand_total == 0
    assert [(r.status, r.item_ids) for r in uow.reports.reports] == [(OrderStatus.refunded, [5003])]
    assert_identity(uow, order_id)


# --- sources, ownership, redelivery (spec 9.3) -----------------------------------------------


def test_ship_on_a_marketplace_order_from_a_merchant_is_rejected() -> None:
    uow, _ = split(example())
    result = trigger_merchant_event(event("ship"), uow, "m-1")
    assert {r.outcome for r in result.records} == {Outcome.rejected}
    assert result.records[0].reason == (
        "shipping status of marketplace orders comes from the channel's carrier"
    )


def test_ship_and_deliver_on_web_orders_move_items_and_the_package() -> None:
    uow, order_id = split(example("web"))
    trigger_merchant_event(event("ship", items=(f"{MO2}--5001",)), uow, "m-1")
    package = mo(uow, MO2).package
    assert package is not None and package.status is PackageStatus.waiting
    trigger_merchant_event(event("ship", items=(f"{MO2}--5002",)), uow, "m-2")
    assert package.status is PackageStatus.shipped
    trigger_merchant_event(event("deliver"), uow, "m-3")
    assert package.status is PackageStatus.delivered
    order = uow.orders.orders[order_id]
    assert [i.status for i in order.items[:2]] == [OrderStatus.delivered] * 2
    assert uow.reports.reports == []  # web channels are not reported to Omnitron


def test_automatic_events_from_outside_are_rejected() -> None:
    uow, _ = split(example())
    result = trigger_merchant_event(event("cancel"), uow, "m-1")
    assert {r.outcome for r in result.records} == {Outcome.rejected}
    assert "not manual" in result.records[0].reason


def test_skipped_items_do_not_fail_the_request() -> None:
    uow, _ = split(example())
    mo(uow, MO2).items[0].state = "shipped"
    result = trigger_merchant_event(event("cancel by merchant"), uow, "m-1")
    assert [r.outcome for r in result.records] == [Outcome.skipped, Outcome.applied]
    assert "'shipped'" in result.records[0].reason


def test_a_foreign_merchant_order_reads_exactly_like_a_missing_one() -> None:
    uow, _ = split(example())
    foreign = trigger_merchant_event(event("cancel by merchant", MO5, "MER000002"), uow, "m-1")
    missing = trigger_merchant_event(
        event("cancel by merchant", "NOPE--X", "MER000002"), uow, "m-2"
    )
    assert foreign.records[0].reason == f"merchant order {MO5} not found"
    assert missing.records[0].reason == "merchant order NOPE--X not found"
    assert {i.state for i in mo(uow, MO5).items} == {"new"}


def test_unknown_event_and_unknown_item_are_rejected() -> None:
    uow, _ = split(example())
    unknown = trigger_merchant_event(event("explode"), uow, "m-1")
    assert [(r.outcome, r.reason) for r in unknown.records] == [
        (Outcome.rejected, "unknown event 'explode'")
    ]
    result = trigger_merchant_event(
        event("cancel by merchant", items=(f"{MO5}--5003", f"{MO2}--5001")), uow, "m-2"
    )
    assert [(r.item_reference, r.outcome) for r in result.records] == [
        (f"{MO5}--5003", Outcome.rejected),
        (f"{MO2}--5001", Outcome.applied),
    ]


def test_pipeline_sources_cannot_come_from_the_queue() -> None:
    uow, _ = split(example())
    result = trigger_merchant_event(event("cancel", source=Source.marketplace), uow, "m-1")
    assert result.records[0].outcome is Outcome.rejected
    assert {i.state for i in mo(uow, MO2).items} == {"new"}


def test_a_redelivered_message_returns_its_first_outcomes_and_changes_nothing() -> None:
    uow, _ = split(example())
    first = trigger_merchant_event(event("cancel by merchant"), uow, "m-1")
    lines = uow.orders.saved_lines
    again = trigger_merchant_event(event("cancel by merchant"), uow, "m-1")
    assert again.repeated and not first.repeated
    assert again.records == first.records
    assert uow.orders.saved_lines == lines
    assert len(uow.reports.reports) == 2


# --- from the poll and from the channel (spec 9.4) --------------------------------------------


def test_the_poll_fires_ship_then_deliver_on_the_live_items_only() -> None:
    uow, order_id = split(example())
    trigger_merchant_event(event("cancel by merchant", items=(f"{MO2}--5002",)), uow, "m-1")
    package = mo(uow, MO2).package
    assert package is not None and package.id is not None
    records = fire_for_packages(uow, {package.id: PackageStatus.delivered}, NOW)
    assert [(r.item_reference, r.event, r.to_state, r.source) for r in records] == [
        (f"{MO2}--5001", "ship", "shipped", Source.poll),
        (f"{MO2}--5001", "deliver", "delivered", Source.poll),
    ]
    assert [i.state for i in mo(uow, MO2).items] == ["delivered", "canceled by merchant"]
    assert order_id in uow.orders.locked


def test_attempted_delivery_fires_nothing_and_a_state_without_the_event_is_forced() -> None:
    uow, _ = split(example())
    package = mo(uow, MO5).package
    assert package is not None and package.id is not None
    assert fire_for_packages(uow, {package.id: PackageStatus.attempted_delivery}, NOW) == []
    mo(uow, MO5).items[0].state = "waiting for return"
    (record,) = fire_for_packages(uow, {package.id: PackageStatus.shipped}, NOW)
    assert (record.outcome, record.from_state, record.to_state) == (
        Outcome.forced,
        "waiting for return",
        "shipped",
    )
    assert record.reason.startswith("shipped by the carrier")
    assert mo(uow, MO5).items[0].state == "shipped"


def test_a_re_sent_order_with_a_cancelled_item_fires_cancel_from_the_marketplace() -> None:
    uow, order_id = split(example())
    result = services.ingest_order(example(i5003=OrderStatus.cancelled), uow, "resend-1")
    assert not result.created
    assert [(r.item_reference, r.event, r.source, r.outcome) for r in result.updates] == [
        (f"{MO5}--5003", "cancel", Source.marketplace, Outcome.applied)
    ]
    assert [i.state for i in mo(uow, MO5).items] == ["canceled"]
    assert uow.orders.orders[order_id].items[2].status is OrderStatus.cancelled
    assert_identity(uow, order_id)
    again = services.ingest_order(example(i5003=OrderStatus.cancelled), uow, "resend-2")
    assert again.updates == []  # already cancelled: nothing to fire


def test_a_re_sent_order_before_its_split_waits() -> None:
    uow = FakeUnitOfWork()
    order_id = services.ingest_order(example(), uow).order_id
    assert order_id is not None
    with pytest.raises(NotSplitYet):
        channel_update(order_id, {5003: "cancel"}, uow, "m-1")
