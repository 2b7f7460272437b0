"""The merchant event (spec 9.3): the body merchants, the API and imports publish to
`oms.merchant`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.merchant_events import MerchantEvent
from domain.merchant_oms import Source
from schemas.errors import InvalidMessage, validate
from schemas.text import PRINTABLE_PATTERN, printable, unstorable

ItemReference = Annotated[
    str, StringConstraints(min_length=1, max_length=400, pattern=PRINTABLE_PATTERN)
]


class MerchantEventMessage(BaseModel):
    """Trigger `event` on the items of a merchant order (all of them without
    `item_references`). `poll` and `marketplace` events are raised inside the pipeline only."""

    model_config = ConfigDict(extra="forbid", strict=True, title="MerchantEvent")

    # printable, not the reference rule of spec 3: merchants from before that rule keep
    # their references, and an unknown one is "not found" like any other
    merchant_reference: printable(128)  # type: ignore[valid-type]
    merchant_order_reference: printable(300)  # type: ignore[valid-type]
    event: printable(100)  # type: ignore[valid-type]
    item_references: list[ItemReference] | None = Field(default=None, min_length=1, max_length=1000)
    source: Literal["merchant", "api", "import"] = "merchant"


def parse_merchant_event(body: Any) -> MerchantEvent:
    if problems := unstorable(body):  # an unknown key, too, is named in the reason
        raise InvalidMessage(problems)
    message = validate(MerchantEventMessage, body)
    items = message.item_references
    return MerchantEvent(
        merchant_reference=message.merchant_reference,
        merchant_order_reference=message.merchant_order_reference,
        event=message.event,
        item_references=None if items is None else tuple(items),
        source=Source(message.source),
    )
