"""The merchant portal's request and response shapes (spec section 11), for the OpenAPI
document; kept apart from the operator side's models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.models import TOTALS_DOC, Totals

# no control characters (C0, DEL, C1: the queue's schemas refuse them, schemas/text.py): not in
# any name or reference, and PostgreSQL refuses NUL
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]+$"
ItemReference = Annotated[str, Field(min_length=1, max_length=400, pattern=PRINTABLE)]


class MerchantOrderSummary(BaseModel):
    reference: str
    order_number: str = Field(description="the marketplace order's number")
    currency: str
    created_at: str = Field(description="when the split created the merchant order")
    states: list[str] = Field(description="the sorted set of its items' states")
    manual_events: list[str] = Field(description="the manual events its items can take now")
    totals: Totals = Field(description=TOTALS_DOC)


class Customer(BaseModel):
    first_name: str | None
    last_name: str | None
    email: str | None


class ShipmentInfo(BaseModel):
    address: dict[str, Any] | None = Field(
        description="the shipping address as the channel sent it"
    )
    package_number: str | None
    package_status: str | None
    package_status_code: int | None
    tracking_number: str | None
    cargo_company: dict[str, Any] | None


class OverviewItem(BaseModel):
    reference: str
    omnitron_item_id: int
    sku: str
    name: str
    quantity: int
    price: int = Field(description="unit price, integer minor units")
    discount_amount: int
    tax_rate: str
    state: str
    process: str
    manual_events: list[str]


class Overview(BaseModel):
    states: list[str]
    manual_events: list[str]
    items: list[OverviewItem]


class MerchantOrderDetail(BaseModel):
    """Seed 000's merchant order page: customer, shipment, overview and the merchant order's
    own totals."""

    reference: str
    merchant_reference: str
    order_number: str
    currency: str
    created_at: str | None
    customer: Customer
    shipment: ShipmentInfo
    overview: Overview
    totals: Totals = Field(description=f"the merchant order's own totals: {TOTALS_DOC}")


class MerchantEventRequest(BaseModel):
    """Trigger `event` on the merchant order's items (all of them without `item_references`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    event: str = Field(min_length=1, max_length=100, pattern=PRINTABLE)
    item_references: list[ItemReference] | None = Field(default=None, min_length=1, max_length=1000)


class ItemOutcome(BaseModel):
    item_reference: str
    outcome: str = Field(description="applied, forced, skipped or rejected")
    from_state: str | None
    to_state: str | None
    reason: str


class MerchantEventStatus(BaseModel):
    event_id: str
    status: str = Field(description="handled, rejected (see detail) or pending")
    detail: str | None = None
    outcomes: list[ItemOutcome] = Field(default_factory=list)


class MerchantEventAccepted(BaseModel):
    event_id: str
    status_url: str
