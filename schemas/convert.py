"""From a raw message body to a domain Order: structure by pydantic, then the rules that need
the currency and the computed totals. Every problem is reported as 'path: rule'."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain.lines import settle_expenses
from domain.model import CargoCompany, Channel, Expense, Order, OrderItem, Product
from domain.money import MoneyError, format_minor_units, rate_of, to_minor_units
from domain.statuses import OrderStatus
from domain.totals import totals_of
from schemas.errors import InvalidMessage
from schemas.inbound_order import InboundOrder, ItemIn
from schemas.text import unstorable

MARKETPLACE_SHIPPING = ("shipping", "Marketplace shipping")
# Totals are stored as BIGINT minor units; far above any real order, far below 2**63.
MAX_ORDER_TOTAL = 10**15


def parse_inbound_order(body: Any, main_merchant: str) -> Order:
    """Validate one inbound order body; raise InvalidMessage naming every broken rule."""
    if not isinstance(body, dict):
        raise InvalidMessage([("body", f"must be a JSON object, got {type(body).__name__}")])
    if problems := unstorable(body):
        raise InvalidMessage(problems)
    try:
        model = InboundOrder.model_validate(body)
    except ValidationError as error:
        raise InvalidMessage.from_validation_error(error) from None
    return _to_domain(model, main_merchant)


class _Money:
    """Converts decimal strings in one currency, collecting problems by path."""

    def __init__(self, currency: str):
        self.currency = currency
        self.problems: list[tuple[str, str]] = []

    def __call__(self, path: str, text: str) -> int:
        try:
            return to_minor_units(text, self.currency)
        except MoneyError as error:
            self.problems.append((path, str(error)))
            return 0


def _item(index: int, item: ItemIn, main_merchant: str, money: _Money) -> OrderItem:
    path = f"items[{index}]"
    price = money(f"{path}.price", item.price)
    discount = money(f"{path}.discount_amount", item.discount_amount)
    if discount > price * item.quantity:
        money.problems.append(
            (
                f"{path}.discount_amount",
                f"{item.discount_amount} is more than quantity x price "
                f"({format_minor_units(price * item.quantity, money.currency)})",
            )
        )
    return OrderItem(
        omnitron_id=item.id,
        product=Product(item.product.sku, item.product.name, item.product.barcode),
        merchant_reference=item.merchant_reference or main_merchant,
        product_offer_reference=item.product_offer_reference,
        quantity=item.quantity,
        price=price,
        tax_rate=rate_of(item.tax_rate),
        discount_amount=discount,
        tracking_number=item.tracking_number,
        status=OrderStatus.from_code(item.status),
        extra=dict(item.model_extra or {}),
    )


def _to_domain(model: InboundOrder, main_merchant: str) -> Order:
    money = _Money(model.currency)
    items = [_item(i, item, main_merchant, money) for i, item in enumerate(model.items)]
    merchants = {item.merchant_reference for item in items}
    expenses = []
    for index, e in enumerate(model.expenses):
        if e.merchant_reference is not None and e.merchant_reference not in merchants:
            money.problems.append(
                (
                    f"expenses[{index}].merchant_reference",
                    f"names merchant {e.merchant_reference!r}, which has no item in the order",
                )
            )
        expenses.append(
            Expense(
                type=e.type,
                name=e.name,
                amount=money(f"expenses[{index}].amount", e.amount),
                tax_rate=rate_of(e.tax_rate),
                merchant_reference=e.merchant_reference,
            )
        )
    shipping = money("shipping_amount", model.shipping_amount)
    if shipping:
        kind, name = MARKETPLACE_SHIPPING
        expenses.append(Expense(kind, name, shipping, rate_of(model.shipping_tax_rate)))
    amount = None if model.amount is None else money("amount", model.amount)
    if money.problems:
        raise InvalidMessage(money.problems)
    settle_expenses(items, expenses)  # lines that arrive ended take their expenses with them
    totals = totals_of(items, expenses)
    if totals.subtotal + totals.expense_total > MAX_ORDER_TOTAL:
        limit = format_minor_units(MAX_ORDER_TOTAL, model.currency)
        raise InvalidMessage([("items", f"the order's lines add up to more than {limit}")])
    grand_total = totals.grand_total
    if amount is not None and amount != grand_total:
        raise InvalidMessage(
            [
                (
                    "amount",
                    f"{model.amount} does not equal the computed grand total "
                    f"{format_minor_units(grand_total, model.currency)}",
                )
            ]
        )
    cargo = model.cargo_company
    return Order(
        channel=Channel(model.channel.id, model.channel.name, model.channel.channel_type),
        number=model.number,
        status=OrderStatus.from_code(model.status),
        date_placed=model.date_placed,
        currency=model.currency,
        items=items,
        expenses=expenses,
        tracking_number=model.tracking_number,
        cargo_company=CargoCompany(cargo.id, cargo.name, cargo.erp_code) if cargo else None,
        customer=model.customer,
        shipping_address=model.shipping_address,
        billing_address=model.billing_address,
        extra=dict(model.model_extra or {}),
    )
