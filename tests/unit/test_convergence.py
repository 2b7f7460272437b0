"""Issue 21, items 5-8 and 14: one definition of a live line, results that depend on the final
statuses only, the marketplace as the source of truth (forced moves, no echo reports), no
package left where no event can move it, and only events that would apply offered."""

from __future__ import annotations

from domain import services
from domain.merchant_effects import offered_events
from domain.merchant_events import trigger_merchant_event
from domain.merchant_oms import MAIN_PROCESS, Outcome, Source
from domain.packaging import pack
from domain.poll_service import poll_packages
from domain.statuses import OrderStatus, PackageStatus
from tests.unit.fakes import FakeOmnitron, FakeUnitOfWork
from tests.unit.test_merchant_events import MO2, MO5, NOW, assert_identity, event, example, mo
from tests.unit.test_merchant_events import split as split_example

FIRST, SECOND, THIRD = f"{MO2}--5001", f"{MO2}--5002", f"{MO5}--5003"


def _reports(uow: FakeUnitOfWork) -> list[tuple[OrderStatus, list[int]]]:
    return [(r.status, r.item_ids) for r in uow.reports.reports]


def _poll(uow: FakeUnitOfWork, reference: str, says: dict[int, str]) -> None:
    package = mo(uow, reference).package
    assert package is not None and package.id is not None
    omnitron = FakeOmnitron()
    omnitron.says["TY-100042"] = says
    poll_packages([package.id], uow, omnitron, clock=lambda: NOW)


def _pack(uow: FakeUnitOfWork, order_id: int, reference: str) -> None:
    package = mo(uow, reference).package
    assert package is not None
    pack(package, uow.orders.orders[order_id])


# --- 5: cancellation_waiting (50) is live for totals, expenses and packing alike -------------


def test_item5_an_item_at_50_keeps_its_merchants_shipping_payable_and_is_packed() -> None:
    uow, order_id = split_example(example(i5001=OrderStatus.cancellation_waiting))
    trigger_merchant_event(event("cancel by merchant", items=(SECOND,)), uow, "m-1")
    order = uow.orders.orders[order_id]
    shipping = next(e for e in order.expenses if e.merchant_reference == "MER000002")
    assert not shipping.canceled  # 5001 at 50 is still live
    assert mo(uow, MO2).totals.grand_total == 10000 + 590
    _pack(uow, order_id, MO2)
    assert order.items[0].status is OrderStatus.preparing
    assert_identity(uow, order_id)


# --- 6: the final statuses decide, not the path ------------------------------------------------


def _money(uow: FakeUnitOfWork, order_id: int) -> tuple[object, ...]:
    order = uow.orders.orders[order_id]
    return (
        order.totals,
        order.status,
        [(e.canceled, e.refunded) for e in order.expenses],
        [m.totals for m in uow.merchant_orders.for_order(order_id)],
    )


def test_item6_lines_that_arrive_ended_settle_as_if_ended_later() -> None:
    ended = {"i5001": OrderStatus.cancelled, "i5002": OrderStatus.cancelled}
    arrived, arrived_id = split_example(example(**ended))
    later, later_id = split_example(example())
    services.ingest_order(example(**ended), later, "resend-1", clock=lambda: NOW)
    assert _money(arrived, arrived_id) == _money(later, later_id)
    assert mo(arrived, MO2).totals.grand_total == 0  # its shipping cancelled with its lines
    everything = {**ended, "i5003": OrderStatus.refunded}
    arrived, arrived_id = split_example(example(**everything))
    services.ingest_order(example(**everything), later, "resend-2", clock=lambda: NOW)
    assert _money(arrived, arrived_id) == _money(later, later_id)
    assert arrived.orders.orders[arrived_id].status is OrderStatus.refunded
    assert arrived.orders.orders[arrived_id].totals.grand_total == 0


# --- 7: the channel and the poll converge ----------------------------------------------------


def test_item7_a_shipped_item_refunded_by_the_channel_is_forced_refunded_without_echo() -> None:
    uow, order_id = split_example(example())
    _pack(uow, order_id, MO5)
    _poll(uow, MO5, {5003: "500"})
    assert mo(uow, MO5).items[0].state == "shipped"
    result = services.ingest_order(
        example(i5003=OrderStatus.refunded), uow, "resend-1", clock=lambda: NOW
    )
    (record,) = result.updates
    assert (record.outcome, record.from_state, record.to_state) == (
        Outcome.forced,
        "shipped",
        "refunded",
    )
    assert mo(uow, MO5).totals.refund_total == 20000
    assert _reports(uow) == []  # Omnitron announced it: nothing goes back
    assert_identity(uow, order_id)


def test_item7_a_packed_item_cancelled_by_the_channel_cancels_its_package() -> None:
    uow, order_id = split_example(example())
    _pack(uow, order_id, MO5)
    result = services.ingest_order(
        example(i5003=OrderStatus.cancelled), uow, "resend-1", clock=lambda: NOW
    )
    assert [r.outcome for r in result.updates] == [Outcome.applied]
    package = mo(uow, MO5).package
    assert package is not None and package.status is PackageStatus.cancelled
    assert [pi.status for pi in package.items] == [PackageStatus.cancelled]
    assert uow.polls.load([package.id or 0]) == []  # no live item: never polled again
    assert _reports(uow) == []


def test_item7_the_poll_applies_omnitrons_cancel_and_refund_itself() -> None:
    uow, order_id = split_example(example())
    _pack(uow, order_id, MO2)
    _poll(uow, MO2, {5001: "100", 5002: "500"})
    order = uow.orders.orders[order_id]
    assert [i.status for i in order.items[:2]] == [OrderStatus.cancelled, OrderStatus.shipped]
    assert [i.state for i in mo(uow, MO2).items] == ["canceled", "shipped"]
    package = mo(uow, MO2).package
    assert package is not None and package.status is PackageStatus.shipped
    _poll(uow, MO2, {5002: "600"})
    assert order.items[1].status is OrderStatus.refunded
    assert mo(uow, MO2).items[1].state == "refunded"
    assert package.status is PackageStatus.shipped  # with the carrier: it stays
    assert uow.polls.load([package.id or 0]) == []
    assert _reports(uow) == []
    assert_identity(uow, order_id)


def test_item7_a_main_merchant_item_sent_to_distribution_is_forced_shipped_and_delivered() -> None:
    uow, order_id = split_example(example(), main="MER000005")
    assert mo(uow, MO5).items[0].process == MAIN_PROCESS
    request = event("send to distribution", MO5, "MER000005")
    trigger_merchant_event(request, uow, "m-1")
    _pack(uow, order_id, MO5)
    _poll(uow, MO5, {5003: "550"})
    item = mo(uow, MO5).items[0]
    assert item.state == "delivered"
    deliver = uow.merchant_log.records[-1]
    assert (deliver.event, deliver.outcome, deliver.from_state) == (
        "deliver",
        Outcome.forced,
        "left the merchant location",
    )
    assert uow.orders.orders[order_id].items[2].status is OrderStatus.delivered


# --- 8: no package left where no event can move it -------------------------------------------


def test_item8_a_web_package_follows_its_live_items_after_a_cancel() -> None:
    uow, order_id = split_example(example("web"))
    for name in ("ship", "deliver"):
        trigger_merchant_event(event(name, items=(FIRST,)), uow, f"m-{name}")
    package = mo(uow, MO2).package
    assert package is not None and package.status is PackageStatus.waiting
    trigger_merchant_event(event("cancel by merchant", items=(SECOND,)), uow, "m-cancel")
    assert package.status is PackageStatus.delivered
    assert uow.orders.orders[order_id].items[1].status is OrderStatus.cancelled


def test_item8_a_package_whose_every_line_was_refunded_before_packing_is_cancelled() -> None:
    uow, _ = split_example(example())
    services.ingest_order(example(i5003=OrderStatus.refunded), uow, "r-1", clock=lambda: NOW)
    package = mo(uow, MO5).package
    assert package is not None and package.status is PackageStatus.cancelled


# --- 14: only what would be applied is offered -----------------------------------------------


def test_item14_after_packing_neither_cancel_nor_ship_is_offered() -> None:
    uow, order_id = split_example(example())
    process = uow.merchant_processes.get("MerchantDefaultStateMachine")
    assert offered_events(process, "new", True, PackageStatus.waiting) == {"cancel by merchant"}
    assert offered_events(process, "new", True, PackageStatus.packed) == set()
    assert offered_events(process, "new", False, PackageStatus.waiting) == {
        "cancel by merchant",
        "ship",
    }
    _pack(uow, order_id, MO5)
    for name in ("cancel by merchant", "ship"):  # and indeed both would be rejected
        result = trigger_merchant_event(event(name, MO5, "MER000005"), uow, f"m-{name}")
        assert [r.outcome for r in result.records] == [Outcome.rejected]


def test_a_merchant_cannot_force_nor_skip_a_guard() -> None:
    uow, order_id = split_example(example())
    _pack(uow, order_id, MO5)
    for source in (Source.merchant, Source.api, Source.import_):
        request = event("cancel by merchant", MO5, "MER000005", source=source)
        (record,) = trigger_merchant_event(request, uow, f"x-{source}").records
        assert record.outcome is Outcome.rejected and "is packed" in record.reason
    assert uow.orders.orders[order_id].items[2].status is OrderStatus.preparing
