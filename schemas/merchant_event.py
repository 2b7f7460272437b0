"""The merchant event (spec 9.3): the body merchants, the API and imports publish to
`oms.merchant`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.merchant_events import MerchantEvent
from domain.merchant_oms import Source
from schemas.errors import validate

ItemReference = Annotated[str, Field(min_length=1, max_length=400)]


class MerchantEventMessage(BaseModel):
    """Trigger `event` on the items of a merchant order (all of them without
    `item_references`). `poll` and `marketplace` events are raised inside the pipeline only."""

    model_config = ConfigDict(extra="forbid", strict=True, title="MerchantEvent")

    merchant_reference: str = Field(min_length=1, max_length=128)
    merchant_order_reference: str = Field(min_length=1, max_length=300)
    event: str = Field(min_length=1, max_length=100)
    item_references: list[ItemReference] | None = Field(default=None, min_length=1, max_length=1000)
    source: Literal["merchant", "api", "import"] = "merchant"


def parse_merchant_event(body: Any) -> MerchantEvent:
    message = validate(MerchantEventMessage, body)
    items = message.item_references
    return MerchantEvent(
        merchant_reference=message.merchant_reference,
        merchant_order_reference=message.merchant_order_reference,
        event=message.event,
        item_references=None if items is None else tuple(items),
        source=Source(message.source),
    )
