"""The inbound order (spec section 3): the body upstream systems publish to `oms.ingest`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    WithJsonSchema,
    field_validator,
)

from domain.money import (
    CURRENCY_EXPONENTS,
    MoneyError,
    check_decimal_text,
    currency_exponent,
    rate_of,
)
from domain.statuses import OrderStatus
from schemas.text import PRINTABLE, MerchantReference, OrderNumber, printable

_DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
# date_placed must read back in any session time zone (year 1 at +14:00 is year 0 in UTC)
EARLIEST_DATE = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(9000, 1, 1, tzinfo=UTC)


def _decimal_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "12.50" (JSON numbers are inexact)')
    return check_decimal_text(value)


STATUS_CODES = tuple(str(s.value) for s in OrderStatus)


def _status_code(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError('must be an Omnitron status code string such as "400"')
    if value not in STATUS_CODES:
        known = ", ".join(STATUS_CODES)
        raise ValueError(f"unknown Omnitron status code {value!r} (known: {known})")
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 4217 code string")
    currency_exponent(value)
    return value.lower()


def _rate(value: Any) -> str:
    text = _decimal_text(value)
    if rate_of(text) > 100:
        raise ValueError(f"{text!r} is above 100 percent")
    return text


Decimal = Annotated[
    str,
    BeforeValidator(_decimal_text),
    WithJsonSchema({"type": "string", "pattern": _DECIMAL_PATTERN}),
]
Rate = Annotated[
    str,
    BeforeValidator(_rate),
    WithJsonSchema(
        {"type": "string", "pattern": _DECIMAL_PATTERN, "description": "percent, 0..100"}
    ),
]
StatusCode = Annotated[
    str,
    BeforeValidator(_status_code),
    WithJsonSchema({"type": "string", "enum": list(STATUS_CODES)}),
]
Currency = Annotated[
    str,
    BeforeValidator(_currency),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 4217 code, any case",
            "enum": sorted(CURRENCY_EXPONENTS) + sorted(c.upper() for c in CURRENCY_EXPONENTS),
        }
    ),
]
# Limits are the stored columns' sizes: a value that does not fit is bad input, not a retry.
BigInt = Annotated[int, Field(ge=1, le=2**63 - 1)]


__all__ = ["MoneyError"]


class Closed(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class ChannelIn(Closed):
    id: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
    name: printable(255)  # type: ignore[valid-type]
    channel_type: printable(64)  # type: ignore[valid-type]


class CargoCompanyIn(Closed):
    id: StrictInt
    name: Annotated[str, PRINTABLE]
    erp_code: Annotated[str, PRINTABLE]


class ProductIn(Closed):
    sku: printable(255)  # type: ignore[valid-type]
    name: printable(512, required=False)  # type: ignore[valid-type]
    barcode: printable(128, required=False) | None = None  # type: ignore[valid-type]


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    id: StrictInt = Field(
        description="Omnitron order item id, unique across the order", ge=1, le=2**63 - 1
    )
    product: ProductIn
    merchant_reference: MerchantReference | None = None
    product_offer_reference: printable(255, required=False) | None = None  # type: ignore[valid-type]
    quantity: StrictInt = Field(default=1, ge=1, le=1_000_000)
    price: Decimal
    tax_rate: Rate
    discount_amount: Decimal = "0"
    tracking_number: printable(128, required=False) | None = None  # type: ignore[valid-type]
    status: StatusCode = "400"


class ExpenseIn(Closed):
    type: printable(64)  # type: ignore[valid-type]
    name: printable(255, required=False)  # type: ignore[valid-type]
    amount: Decimal
    tax_rate: Rate
    merchant_reference: MerchantReference | None = None


class InboundOrder(BaseModel):
    """One marketplace order as Omnitron sends it. Unknown extra fields are kept, not used."""

    model_config = ConfigDict(extra="allow", strict=True, title="InboundOrder")

    number: OrderNumber
    channel: ChannelIn
    status: StatusCode
    date_placed: Annotated[AwareDatetime, Field(strict=False)]
    currency: Currency
    amount: Decimal | None = None
    shipping_amount: Decimal = "0"
    shipping_tax_rate: Rate = "0"
    tracking_number: printable(128, required=False) | None = None  # type: ignore[valid-type]
    cargo_company: CargoCompanyIn | None = None
    customer: dict[str, Any] | None = None
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    items: list[ItemIn] = Field(min_length=1, max_length=1000)
    expenses: list[ExpenseIn] = Field(default_factory=list)

    @field_validator("date_placed")
    @classmethod
    def _plausible_date(cls, value: datetime) -> datetime:
        try:
            fits = EARLIEST_DATE <= value.astimezone(UTC) < LATEST_DATE
        except OverflowError:
            fits = False
        if not fits:
            raise ValueError(
                f"must be from {EARLIEST_DATE:%Y-%m-%d} to before {LATEST_DATE:%Y-%m-%d} (UTC)"
            )
        return value

    @field_validator("items")
    @classmethod
    def _unique_item_ids(cls, items: list[ItemIn]) -> list[ItemIn]:
        seen: set[int] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(f"item id {item.id} appears more than once")
            seen.add(item.id)
        return items
