"""Entities and value objects of the order pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from domain.statuses import OrderStatus, PackageStatus, is_live

WEB_CHANNEL_TYPES = frozenset({"web", "akinon", "b2c_direct"})


def is_marketplace_type(channel_type: str) -> bool:
    """Marketplace channels ship through the marketplace's own carrier (spec section 1)."""
    return channel_type.lower() not in WEB_CHANNEL_TYPES


def merchant_order_reference(order_number: str, merchant_reference: str) -> str:
    return f"{order_number}--{merchant_reference}"


@dataclass(frozen=True)
class Channel:
    id: int
    name: str
    channel_type: str

    @property
    def is_marketplace(self) -> bool:
        return is_marketplace_type(self.channel_type)


@dataclass(frozen=True)
class CargoCompany:
    id: int
    name: str
    erp_code: str


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    barcode: str | None = None


@dataclass
class OrderItem:
    """One order line as Omnitron sent it; money in minor units."""

    omnitron_id: int
    product: Product
    merchant_reference: str
    price: int
    tax_rate: Fraction
    quantity: int = 1
    discount_amount: int = 0
    product_offer_reference: str | None = None
    tracking_number: str | None = None
    status: OrderStatus = OrderStatus.approved
    extra: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    @property
    def canceled(self) -> bool:
        return self.status is OrderStatus.cancelled

    @property
    def refunded(self) -> bool:
        return self.status is OrderStatus.refunded

    @property
    def live(self) -> bool:
        return is_live(self.status)


@dataclass
class Expense:
    """A fee on the order; it belongs to a merchant when it names one, else to the marketplace."""

    type: str
    name: str
    amount: int
    tax_rate: Fraction
    merchant_reference: str | None = None
    discount_amount: int = 0
    canceled: bool = False
    refunded: bool = False
    id: int | None = None

    @property
    def price(self) -> int:
        return self.amount

    @property
    def quantity(self) -> int:
        return 1


TOTAL_NAMES = (
    "subtotal",
    "expense_total",
    "discount_total",
    "canceled_total",
    "refund_total",
    "tax_total",
    "grand_total",
)


@dataclass(frozen=True)
class Totals:
    """The seven totals of spec section 4, in minor units."""

    subtotal: int = 0
    expense_total: int = 0
    discount_total: int = 0
    canceled_total: int = 0
    refund_total: int = 0
    tax_total: int = 0
    grand_total: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.subtotal + other.subtotal,
            self.expense_total + other.expense_total,
            self.discount_total + other.discount_total,
            self.canceled_total + other.canceled_total,
            self.refund_total + other.refund_total,
            self.tax_total + other.tax_total,
            self.grand_total + other.grand_total,
        )

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in TOTAL_NAMES}


@dataclass
class Order:
    """The marketplace order as received; (channel.id, number) is its identity."""

    channel: Channel
    number: str
    status: OrderStatus
    date_placed: datetime
    currency: str
    items: list[OrderItem]
    expenses: list[Expense] = field(default_factory=list)
    tracking_number: str | None = None
    cargo_company: CargoCompany | None = None
    customer: dict[str, Any] | None = None
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)
    id: int | None = None
    split: bool = False

    def merchant_references(self) -> list[str]:
        """Merchants with items in this order, in order of first appearance."""
        return list(dict.fromkeys(item.merchant_reference for item in self.items))


@dataclass
class PackageItem:
    order_item_id: int
    omnitron_item_id: int
    quantity: int
    status: PackageStatus = PackageStatus.waiting
    id: int | None = None


@dataclass
class Package:
    """What one merchant packs and ships for one order: one per merchant order."""

    number: str
    channel_id: int
    items: list[PackageItem]
    status: PackageStatus = PackageStatus.waiting
    id: int | None = None
    created_at: datetime | None = None
    order_id: int | None = None


def merchant_order_item_reference(merchant_order_ref: str, omnitron_item_id: int) -> str:
    return f"{merchant_order_ref}--{omnitron_item_id}"


@dataclass(frozen=True)
class Merchant:
    """A seller; created on first sight with its process (spec 9.1)."""

    reference: str
    oms_process: str
    name: str | None = None


@dataclass
class MerchantOrderItem:
    """One order item as its merchant sees it: a state in the merchant's process."""

    reference: str
    order_item_id: int
    omnitron_item_id: int
    state: str
    process: str
    id: int | None = None
    # what its reservation counts (spec 9.5): the order item's quantity, offer and SKU
    quantity: int = 0
    product_offer_reference: str | None = None
    sku: str = ""
    # the state as last stored (None: not stored yet); the repository turns the difference
    # into the reservation's change when it writes the state
    stored_state: str | None = None


@dataclass
class MerchantOrder:
    """The part of an order that belongs to one merchant, with its own totals and package
    (none when every item arrived cancelled or refunded)."""

    reference: str
    merchant_reference: str
    channel_id: int
    order_id: int
    totals: Totals
    package: Package | None
    items: list[MerchantOrderItem] = field(default_factory=list)
    id: int | None = None
    created_at: datetime | None = None
