"""What merchant events do on the marketplace side (spec 9.4): order items, package items and
packages, expenses, totals recomputed from the lines, status reports for Omnitron."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.merchant_oms import Source
from domain.model import Expense, MerchantOrder, Order, OrderItem, Package
from domain.packaging import INACTIVE
from domain.splitting import marketplace_expenses
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


def guard(event: str, source: Source, order: Order, mo: MerchantOrder) -> str | None:
    """Why this event may not happen to an item of this merchant order, or None."""
    package = mo.package
    if event in CANCEL_EVENTS and package is not None and package.status in PACKED_OR_LATER:
        return (
            f"package {package.number} is {package.status.name}; a packed item is "
            "returned after delivery, not cancelled"
        )
    if event in SHIPPING and order.channel.is_marketplace and source is not Source.poll:
        return "shipping status of marketplace orders comes from the channel's carrier"
    return None


def _item(order: Order, order_item_id: int) -> OrderItem:
    return next(item for item in order.items if item.id == order_item_id)


def _live(item: OrderItem) -> bool:
    return item.status not in INACTIVE


def apply_effect(
    event: str, source: Source, order: Order, mo: MerchantOrder, order_item_id: int,
    changes: Changes,
) -> None:  # fmt: skip
    """The marketplace side of one applied event on one item (state already moved)."""
    item = _item(order, order_item_id)
    if event in CANCEL_EVENTS:
        _end_line(OrderStatus.cancelled, order, mo, item, changes)
    elif event == REFUND:
        _end_line(OrderStatus.refunded, order, mo, item, changes)
    elif event in SHIPPING and not order.channel.is_marketplace:
        _ship_web(event, mo, item, changes)


def _end_line(
    status: OrderStatus, order: Order, mo: MerchantOrder, item: OrderItem, changes: Changes
) -> None:
    """Cancel or refund one line; expenses follow the last live item (of the merchant order,
    then of the order); the package item of a cancelled line is cancelled too."""
    item.status = status
    changes.items[item.id or 0] = item
    cancelled = status is OrderStatus.cancelled
    package = mo.package
    if package is not None:
        for package_item in package.items:
            if package_item.order_item_id == item.id and cancelled:
                package_item.status = PackageStatus.cancelled
        if cancelled and all(pi.status is PackageStatus.cancelled for pi in package.items):
            package.status = PackageStatus.cancelled
        changes.packages[package.id or 0] = package
        if order.channel.is_marketplace:
            changes.reports.append((package.id or 0, status, [item.omnitron_id]))
    mine = [i for i in order.items if i.merchant_reference == mo.merchant_reference]
    if not any(_live(i) for i in mine):
        _end_expenses(
            [e for e in order.expenses if e.merchant_reference == mo.merchant_reference],
            cancelled,
            changes,
        )
    if not any(_live(i) for i in order.items):
        _end_expenses(marketplace_expenses(order), cancelled, changes)


def _end_expenses(expenses: list[Expense], cancelled: bool, changes: Changes) -> None:
    for expense in expenses:
        if expense.canceled or expense.refunded:
            continue
        if cancelled:
            expense.canceled = True
        else:
            expense.refunded = True
        changes.expenses[expense.id or 0] = expense


def _ship_web(event: str, mo: MerchantOrder, item: OrderItem, changes: Changes) -> None:
    """Web channels: the item ships (is delivered); its package follows once every live item
    of it has."""
    item_status, package_status = SHIPPING[event]
    item.status = item_status
    changes.items[item.id or 0] = item
    package = mo.package
    if package is None:
        return
    live = [pi for pi in package.items if pi.status is not PackageStatus.cancelled]
    for package_item in live:
        if package_item.order_item_id == item.id:
            package_item.status = max(package_item.status, package_status)
    lowest = min((pi.status for pi in live), default=package.status)
    if lowest > package.status:
        package.status = lowest
    changes.packages[package.id or 0] = package


def order_status(order: Order) -> OrderStatus:
    """An order follows its items: the least advanced live one; with none live, cancelled
    unless an item was refunded."""
    live = [i.status for i in order.items if _live(i)]
    if live:
        return min(live)
    if any(i.status is OrderStatus.refunded for i in order.items):
        return OrderStatus.refunded
    return OrderStatus.cancelled


def recompute(order: Order, merchant_orders: list[MerchantOrder]) -> None:
    """Totals of every merchant order and of the order, from the lines (spec 4)."""
    for mo in merchant_orders:
        mine = [i for i in order.items if i.merchant_reference == mo.merchant_reference]
        theirs = [e for e in order.expenses if e.merchant_reference == mo.merchant_reference]
        mo.totals = totals_of(mine, theirs)
    order.totals = totals_of(order.items, order.expenses)
    order.status = order_status(order)
