"""What merchant events do on the marketplace side (spec 9.4): order items, package items and
packages, expenses, totals recomputed from the lines, status reports for Omnitron."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.lines import order_status, settle_expenses, settle_package
from domain.merchant_oms import Process, Source
from domain.model import Expense, MerchantOrder, Order, OrderItem, Package
from domain.statuses import OrderStatus, PackageStatus
from domain.totals import totals_of

CANCEL_EVENTS = frozenset({"cancel", "cancel by merchant"})
REFUND = "refund"
PACKED_OR_LATER = frozenset(
    s for s in PackageStatus if PackageStatus.packed <= s < PackageStatus.cancelled
)
SHIP, DELIVER = "ship", "deliver"
# web channels: the event's order item status and package item status
SHIPPING = {
    SHIP: (OrderStatus.shipped, PackageStatus.shipped),
    DELIVER: (OrderStatus.delivered, PackageStatus.delivered),
}


@dataclass
class Changes:
    """What one request changed, for the adapters to write in its transaction."""

    items: dict[int, OrderItem] = field(default_factory=dict)
    expenses: dict[int, Expense] = field(default_factory=dict)
    packages: dict[int, Package] = field(default_factory=dict)
    # (package id, status, Omnitron item ids) to report to Omnitron
    reports: list[tuple[int, OrderStatus, list[int]]] = field(default_factory=list)

    @property
    def lines_changed(self) -> bool:
        return bool(self.items or self.expenses)


def guard(
    event: str, source: Source, marketplace: bool, package_status: PackageStatus | None,
    package_number: str = "",
) -> str | None:  # fmt: skip
    """Why a merchant, an import or the API may not send this event to an item of a merchant
    order whose package is in `package_status`, or None. Events raised inside the pipeline
    (poll, marketplace) are never refused: the marketplace is the source of truth."""
    if not source.outside:
        return None
    if event in CANCEL_EVENTS and package_status in PACKED_OR_LATER:
        assert package_status is not None
        return (
            f"package {package_number} is {package_status.name}; a packed item is returned "
            "after delivery, not cancelled"
        )
    if event in SHIPPING and marketplace:
        return "shipping status of marketplace orders comes from the channel's carrier"
    return None


def offered_events(
    process: Process | None, state: str, marketplace: bool, package_status: PackageStatus | None
) -> set[str]:
    """The manual events an item in `state` can take now (spec 9.1): those its state has that
    no guard refuses, so each one offered would be applied."""
    if process is None:
        return set()
    return {
        event
        for event in process.manual_events(state)
        if guard(event, Source.merchant, marketplace, package_status) is None
    }


def refusal(event: str, source: Source, order: Order, mo: MerchantOrder) -> str | None:
    """`guard` for one merchant order of this order."""
    package = mo.package
    if package is None:
        return guard(event, source, order.channel.is_marketplace, None)
    return guard(event, source, order.channel.is_marketplace, package.status, package.number)


def _item(order: Order, order_item_id: int) -> OrderItem:
    return next(item for item in order.items if item.id == order_item_id)


def apply_effect(
    event: str, source: Source, order: Order, mo: MerchantOrder, order_item_id: int,
    changes: Changes,
) -> None:  # fmt: skip
    """The marketplace side of one applied (or forced) event on one item (state already
    moved). Expenses, packages, totals and the order's status follow in `settle`."""
    item = _item(order, order_item_id)
    if event in CANCEL_EVENTS:
        _end_line(OrderStatus.cancelled, source, order, mo, item, changes)
    elif event == REFUND:
        _end_line(OrderStatus.refunded, source, order, mo, item, changes)
    elif event in SHIPPING and not order.channel.is_marketplace:
        _ship_web(event, mo, item, changes)


def _end_line(
    status: OrderStatus, source: Source, order: Order, mo: MerchantOrder, item: OrderItem,
    changes: Changes,
) -> None:  # fmt: skip
    """Cancel or refund one line; the package item of a cancelled line is cancelled too.
    Omnitron is told, unless it announced the change itself (no echo: spec 9.4)."""
    item.status = status
    changes.items[item.id or 0] = item
    package = mo.package
    if package is None:
        return
    if status is OrderStatus.cancelled:
        for package_item in package.items:
            if package_item.order_item_id == item.id:
                package_item.status = PackageStatus.cancelled
    changes.packages[package.id or 0] = package
    if order.channel.is_marketplace and source.outside:
        changes.reports.append((package.id or 0, status, [item.omnitron_id]))


def _ship_web(event: str, mo: MerchantOrder, item: OrderItem, changes: Changes) -> None:
    """Web channels: the item ships (is delivered); its package follows in `settle`."""
    item_status, package_status = SHIPPING[event]
    item.status = item_status
    changes.items[item.id or 0] = item
    package = mo.package
    if package is None:
        return
    for package_item in package.items:
        if package_item.order_item_id == item.id:
            package_item.status = max(package_item.status, package_status)
    changes.packages[package.id or 0] = package


def settle(order: Order, merchant_orders: list[MerchantOrder], changes: Changes) -> None:
    """After lines changed: every package of the order looked at again, the expenses follow
    their owners' lines, totals recomputed from the lines, the order follows its items."""
    lines = {item.id or 0: item for item in order.items}
    for mo in merchant_orders:
        package = mo.package
        if package is not None and settle_package(package, lines, order.channel.is_marketplace):
            changes.packages[package.id or 0] = package
    for expense in settle_expenses(order.items, order.expenses):
        changes.expenses[expense.id or 0] = expense
    recompute(order, merchant_orders)


def recompute(order: Order, merchant_orders: list[MerchantOrder]) -> None:
    """Totals of every merchant order and of the order, from the lines (spec 4)."""
    for mo in merchant_orders:
        mine = [i for i in order.items if i.merchant_reference == mo.merchant_reference]
        theirs = [e for e in order.expenses if e.merchant_reference == mo.merchant_reference]
        mo.totals = totals_of(mine, theirs)
    order.totals = totals_of(order.items, order.expenses)
    order.status = order_status(i.status for i in order.items)
