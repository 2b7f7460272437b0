"""Response shapes, for the OpenAPI document (the public contract). Handlers return prepared
JSON; schemathesis checks in the test suite that the answers conform to these."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from domain.model import TOTAL_NAMES

Totals = dict[str, int]
TOTALS_DOC = f"integer minor units: {', '.join(TOTAL_NAMES)}"


class Channel(BaseModel):
    id: int
    name: str
    channel_type: str


class OrderSummary(BaseModel):
    id: int
    number: str
    channel: Channel
    status: str
    status_code: int
    currency: str
    date_placed: str
    created_at: str = Field(description="when the pipeline stored the order")
    split: bool
    totals: Totals = Field(description=TOTALS_DOC)


class OrderItem(BaseModel):
    id: int
    sku: str
    name: str
    merchant_reference: str
    product_offer_reference: str | None
    quantity: int
    price: int
    discount_amount: int
    tax_rate: str
    tracking_number: str | None
    status: str
    status_code: int


class Expense(BaseModel):
    type: str
    name: str
    amount: int
    tax_rate: str
    merchant_reference: str | None


class MerchantOrderItemRef(BaseModel):
    reference: str
    omnitron_item_id: int
    state: str
    process: str
    reserves: bool = Field(
        description="its state is reserved in its process: its quantity counts in its offer's "
        "reservation (spec 9.5)"
    )


class MerchantOrderRef(BaseModel):
    reference: str
    merchant_reference: str
    totals: Totals
    package_number: str | None
    merchant_order_items: list[MerchantOrderItemRef]
    states: list[str]
    manual_events: list[str]


class ReservationRow(BaseModel):
    """One offer's reservation (spec 9.5): keyed by product_offer_reference, or by the SKU when
    its items have no offer (then product_offer_reference is null)."""

    merchant_reference: str
    product_offer_reference: str | None
    sku: str | None
    reserved_quantity: int = Field(description="sum of the quantities of its reserved items")
    open_items: int = Field(description="merchant order items in a reserved state")
    oldest_open_order: str | None = Field(description="number of the oldest order holding one")
    oldest_open_order_placed_at: str | None = Field(description="when that order was placed")


class PackageItem(BaseModel):
    order_item_id: int
    quantity: int
    status: str
    status_code: int


class Shipment(BaseModel):
    id: int | None
    tracking_number: str | None
    cargo_company: dict[str, Any] | None
    client: str
    status: str
    status_code: int


class Package(BaseModel):
    id: int | None
    number: str | None
    merchant_order: str
    status: str
    status_code: int
    items: list[PackageItem]
    shipment: Shipment | None


class OrderDocument(BaseModel):
    """The document of `oms show order NUMBER --json`."""

    id: int | None
    number: str
    channel: Channel
    status: str
    status_code: int
    currency: str
    date_placed: str
    tracking_number: str | None
    cargo_company: dict[str, Any] | None
    items: list[OrderItem]
    expenses: list[Expense]
    totals: Totals = Field(description=TOTALS_DOC)
    marketplace_expenses: Totals
    merchant_orders: list[MerchantOrderRef]
    packages: list[Package]


class HistoryEvent(BaseModel):
    """One event of an order's timeline; only the fields that have a value are present."""

    at: str = Field(description="ISO 8601, UTC")
    stage: str = Field(description="ingest, split, merchant, packaging, report, poll, dead_letter")
    what: str
    outcome: str | None = None
    from_: str | None = Field(None, alias="from", description="the state moved from")
    to: str | None = Field(None, description="the state moved to")
    source: str | None = None
    reason: str | None = None
    message_id: str | None = None
    package: str | None = None
    merchant_order: str | None = None
    merchant: str | None = None
    item: str | None = None
    items: int | None = None
    report_id: int | None = None
    attempts: int | None = None
    answer: str | None = Field(None, description="Omnitron's answer to the last attempt")
    sent_at: str | None = None
    queue: str | None = None
    failures: int | None = None
    last_failed_at: str | None = None
    dead_letter_id: int | None = None


class ChannelName(BaseModel):
    id: int
    name: str


class OrderHistory(BaseModel):
    """The document of `oms show order NUMBER --history --json`: events oldest first."""

    id: int
    number: str
    channel: ChannelName
    status: str
    status_code: int
    events: list[HistoryEvent]


class CommandAccepted(BaseModel):
    command_id: str
    status_url: str


class CommandStatus(BaseModel):
    command_id: str
    status: str = Field(description="applied, rejected or pending")
    detail: str | None = None
    package: str | None = None
    from_status: str | None = None
    to_status: str | None = None


class StoredConditions(BaseModel):
    cargo_company: int
    rules_configuration: dict[str, Any]


class DeadLetter(BaseModel):
    id: int
    message_id: str
    queue_name: str
    actor_name: str
    order_number: str | None = Field(
        description="the order it concerned: an inbound order's own number, or the order the "
        "stage was handling; null when its recorder knew none"
    )
    order_channel_id: int | None = Field(description="that order's channel, when known")
    reason: str
    failures: int
    first_failed_at: str
    last_failed_at: str
    replayed_at: str | None


class Replayed(BaseModel):
    id: int
    message_id: str
    queue_name: str
    replayed: bool


class QueueRow(BaseModel):
    queue: str
    ready: int | None
    unacked: int | None
    consumers: int | None
    publish_rate: float | None
    deliver_rate: float | None
    retry_backlog: int | None
    dead_letter_queue: int | None
    dead_letters_recorded: int


class QueueSnapshot(BaseModel):
    source: str
    broker: str
    queues: list[QueueRow]


class Health(BaseModel):
    healthy: bool
    checks: dict[str, str] = Field(description="database, broker: ok or down with the reason")
    detail: str | None = Field(default=None, description="which one is unavailable")
