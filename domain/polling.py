"""Shipment status resolution from Omnitron (spec section 7, seed "Step 2")."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.model import MerchantOrderItem
from domain.omnitron import OmnitronOrder
from domain.statuses import OrderStatus, PackageStatus

POLL_SLUG = "SHIP_THE_PACKAGE"
POLLED_STATES = (PackageStatus.packed, PackageStatus.shipped, PackageStatus.attempted_delivery)

# Omnitron item status -> (package and shipment status, OMS order item status)
MAPPING: dict[str, tuple[PackageStatus, OrderStatus]] = {
    "500": (PackageStatus.shipped, OrderStatus.shipped),
    "540": (PackageStatus.attempted_delivery, OrderStatus.attempted_delivery),
    "550": (PackageStatus.delivered, OrderStatus.delivered),
}


# Omnitron item statuses that end a line, and the event the poll fires for them (spec 9.4)
ENDINGS = {"100": "cancel", "600": "refund"}


@dataclass(frozen=True)
class Resolution:
    """What one poll decided for one package."""

    package_id: int
    seen: str | None  # the Omnitron status that counted, or None when there was none
    target: PackageStatus | None  # None: no update
    reason: str


def resolve(
    package_id: int, current: PackageStatus, item_ids: list[int], order: OmnitronOrder | None
) -> Resolution:
    """The package's own live items decide; when they carry no status, the order's status
    does. Only forward moves among packed -> shipped -> attempted_delivery -> delivered
    apply."""
    if not item_ids:
        return Resolution(package_id, None, None, "no live item left: nothing to move")
    if order is None:
        return Resolution(package_id, None, None, "order unknown to Omnitron; retried next cycle")
    if order.problem is not None:
        return Resolution(
            package_id, None, None, f"Omnitron's answer is malformed: {order.problem}"
        )
    statuses = {item.id: item.status for item in order.items}
    own = {statuses.get(item_id) for item_id in item_ids}
    if own == {None}:
        own = {order.status}
    if len(own) != 1:
        return Resolution(package_id, None, None, f"items disagree: {sorted(map(str, own))}")
    seen = own.pop()
    if seen not in MAPPING:
        return Resolution(package_id, seen, None, f"Omnitron status {seen} maps to no update")
    target = MAPPING[seen][0]
    if target <= current:
        return Resolution(
            package_id, seen, None, f"{target.name} is not ahead of {current.name}: no update"
        )
    return Resolution(package_id, seen, target, f"Omnitron {seen} -> {target.name}")


def endings(item_ids: list[int], order: OmnitronOrder | None) -> dict[int, str]:
    """Which of these live items Omnitron shows cancelled (100) or refunded (600), with the
    event each takes (spec 9.4: the poll applies them as a re-sent order would). When the
    items carry no status, the order's status stands for all of them, as in `resolve`."""
    if order is None or order.problem is not None:
        return {}
    statuses = {item.id: item.status for item in order.items}
    own = {item_id: statuses.get(item_id) for item_id in item_ids}
    if all(status is None for status in own.values()):
        own = dict.fromkeys(own, order.status)
    return {item_id: ENDINGS[s] for item_id, s in own.items() if s in ENDINGS}


def item_status_for(target: PackageStatus) -> OrderStatus:
    return next(order for package, order in MAPPING.values() if package == target)


@dataclass(frozen=True)
class PolledPackage:
    """What a poll needs of one package: its state, its order's number, the Omnitron ids of
    its live items."""

    package_id: int
    status: PackageStatus
    order_number: str
    item_ids: list[int]
    package_number: str = ""
    order_id: int = 0


@dataclass(frozen=True)
class BatchResult:
    polled: int
    moved: list[Resolution]
    unknown_orders: list[str]
    # (order number, problem): Omnitron's answer for the order could not be read; next cycle
    malformed_orders: list[tuple[str, str]] = field(default_factory=list)
    # the batch's packages by id (their numbers and orders' numbers, for the log lines)
    packages: dict[int, PolledPackage] = field(default_factory=dict)
    # items Omnitron showed cancelled or refunded, ended by the poll (spec 9.4)
    ended: int = 0


@dataclass(frozen=True)
class PolledMerchantItem:
    """A live merchant order item of a package the poll moved, with what its event needs."""

    package_id: int
    order_id: int
    merchant_order_reference: str
    marketplace: bool  # its order's channel; web channels take the full merchant-event path
    item: MerchantOrderItem
