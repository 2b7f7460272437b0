"""Internal message `oms.split` / `split_order`: split one stored order."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from schemas.errors import validate


class SplitOrderMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="SplitOrder")

    order_id: StrictInt = Field(ge=1)


def parse_split_order(body: Any) -> SplitOrderMessage:
    return validate(SplitOrderMessage, body)
