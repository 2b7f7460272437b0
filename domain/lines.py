"""What follows from the lines' statuses alone (spec 2, 4, 9.4): the expenses' fate, the
order's status, a package's status. Each is a function of the final statuses of the order
items and of nothing else, so every path to the same statuses (arrival, merchant event,
channel re-send, poll, import) ends in the same money and the same states."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from domain.model import Expense, OrderItem, Package
from domain.statuses import OrderStatus, PackageStatus, is_live

# a package the carrier has: it stays as it is when its items end (the carrier brings it back)
WITH_CARRIER = frozenset(
    {PackageStatus.shipped, PackageStatus.attempted_delivery, PackageStatus.delivered}
)


def ended_as(items: Iterable[OrderItem]) -> tuple[bool, bool] | None:
    """None while one of these lines is live; else (cancelled, refunded) for what follows
    them: refunded when any of them was refunded, else cancelled (as the order's status)."""
    refunded = False
    for item in items:
        if item.live:
            return None
        refunded = refunded or item.refunded
    return (not refunded, refunded)


def settle_expenses(items: Sequence[OrderItem], expenses: Iterable[Expense]) -> list[Expense]:
    """Each expense follows its owner's lines (its merchant's items; the whole order's for an
    expense that names no merchant): payable while one is live, else cancelled or refunded as
    `ended_as` says. Returns the expenses that changed."""
    changed = []
    fates: dict[str | None, tuple[bool, bool] | None] = {}
    for expense in expenses:
        owner = expense.merchant_reference
        if owner not in fates:
            mine = items if owner is None else [i for i in items if i.merchant_reference == owner]
            fates[owner] = ended_as(mine)
        canceled, refunded = fates[owner] or (False, False)
        if (expense.canceled, expense.refunded) != (canceled, refunded):
            expense.canceled, expense.refunded = canceled, refunded
            changed.append(expense)
    return changed


def order_status(statuses: Iterable[OrderStatus]) -> OrderStatus:
    """An order follows its items (spec 2): the least advanced live item's status; with no
    live item left, refunded if any item was refunded, else cancelled."""
    live, refunded = None, False
    for status in statuses:
        if is_live(status):
            live = status if live is None else min(live, status)
        refunded = refunded or status is OrderStatus.refunded
    if live is not None:
        return live
    return OrderStatus.refunded if refunded else OrderStatus.cancelled


def settle_package(package: Package, lines: dict[int, OrderItem], marketplace: bool) -> bool:
    """A package is looked at again after any change of its items' statuses (spec 9.4): not
    yet with the carrier and no live item left -> cancelled (950), its items with it; a web
    channel's package follows its live items' shipping (700 once all of them are shipped, 800
    once all are delivered). Returns whether it changed."""
    if package.status is PackageStatus.cancelled:
        return False
    before = (package.status, [pi.status for pi in package.items])
    live = [
        pi
        for pi in package.items
        if pi.status is not PackageStatus.cancelled and lines[pi.order_item_id].live
    ]
    if not live and package.status not in WITH_CARRIER:
        package.status = PackageStatus.cancelled
        for package_item in package.items:
            package_item.status = PackageStatus.cancelled
    elif live and not marketplace:
        lowest = min(pi.status for pi in live)
        if lowest > package.status and lowest in WITH_CARRIER:
            package.status = lowest
    return before != (package.status, [pi.status for pi in package.items])
