"""Packages, transitions as data, shipments and the status report (spec section 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.lines import order_status
from domain.model import CargoCompany, Order, OrderItem, Package
from domain.statuses import OrderStatus, PackageStatus

COMPLETE_PACKAGING = "CHANNEL_BASED_COMPLETE_PACKAGING"


@dataclass(frozen=True)
class Transition:
    slug: str
    from_status: PackageStatus
    to_status: PackageStatus


@dataclass(frozen=True)
class PackageCommand:
    """A named transition to run on a package, given by id or by number."""

    slug: str
    package_id: int | None = None
    package_number: str | None = None
    input_parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def package_ref(self) -> str:
        return str(self.package_id) if self.package_id is not None else str(self.package_number)


@dataclass(frozen=True)
class TransitionRecord:
    """One line of the transition log: every applied or rejected command."""

    slug: str
    package_ref: str
    applied: bool
    reason: str
    at: datetime
    package_id: int | None = None
    from_status: PackageStatus | None = None
    to_status: PackageStatus | None = None
    message_id: str | None = None
    body_sha256: str | None = None  # the command's fingerprint (domain/message_identity.py)

    @property
    def outcome(self) -> str:
        return "applied" if self.applied else "rejected"


@dataclass
class Shipment:
    package_id: int
    tracking_number: str | None
    cargo_company: CargoCompany | None
    client: str
    created_at: datetime
    status: PackageStatus = PackageStatus.packed
    id: int | None = None


@dataclass
class StatusReport:
    """Omnitron order item ids to report with one status, sent once Omnitron accepts it."""

    package_id: int
    status: OrderStatus
    item_ids: list[int]
    created_at: datetime
    sent_at: datetime | None = None
    id: int | None = None

    def statuses(self) -> dict[int, str]:
        return {item_id: str(int(self.status)) for item_id in sorted(self.item_ids)}


def package_tracking_number(order: Order, items: list[OrderItem]) -> str | None:
    """The items' own tracking number when every item of the package carries the same one,
    else the order's."""
    return tracking_number_of(order.tracking_number, [item.tracking_number for item in items])


def tracking_number_of(order_number: str | None, item_numbers: list[str | None]) -> str | None:
    """`package_tracking_number` from the numbers alone (the read models have no aggregates)."""
    numbers = set(item_numbers)
    if len(numbers) == 1 and None not in numbers:
        return numbers.pop()
    return order_number


def pack(package: Package, order: Order) -> list[OrderItem]:
    """Package and its items packed; the package's live order items preparing (450) in OMS.
    Returns those order items (the ones to report)."""
    package.status = PackageStatus.packed
    live = [pi for pi in package.items if pi.status is not PackageStatus.cancelled]
    for package_item in live:
        package_item.status = PackageStatus.packed
    ids = {package_item.order_item_id for package_item in live}
    items = [item for item in order.items if item.id in ids and item.live]
    for item in items:
        item.status = OrderStatus.preparing
    order.status = order_status(item.status for item in order.items)
    return items
