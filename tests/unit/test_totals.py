"""Exact totals (spec section 4): the worked example, cancelled/refunded lines, and the identity
order.T = sum of merchant_order.T + T of the expenses that name no merchant."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from fractions import Fraction
from functools import reduce
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.queries.orders import identity_holds
from domain.errors import InvalidInput
from domain.model import Channel, Expense, MerchantOrder, Order, OrderItem, Product, Totals
from domain.money import round_half_up
from domain.splitting import marketplace_expenses, split
from domain.statuses import OrderStatus
from domain.totals import expense_totals, item_totals, tax_of, totals_of
from schemas.convert import parse_inbound_order

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOTAL_NAMES = [f.name for f in fields(Totals)]


def _stored(order: Order) -> Order:
    """Give the order and its items the ids a repository would."""
    order.id = 1
    for index, item in enumerate(order.items):
        item.id = index + 1
    return order


def _example_order() -> Order:
    body = json.loads((EXAMPLES / "order-two-merchants.json").read_text(encoding="utf-8"))
    return _stored(parse_inbound_order(body, "MAIN"))


def _expected() -> dict[str, Any]:
    text = (EXAMPLES / "expected-order-two-merchants.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _sum(totals: list[Totals]) -> Totals:
    return reduce(lambda a, b: a + b, totals, Totals())


def _item(
    omnitron_id: int,
    merchant: str,
    price: int,
    *,
    quantity: int = 1,
    discount: int = 0,
    rate: str = "20",
    status: OrderStatus = OrderStatus.approved,
) -> OrderItem:
    return OrderItem(
        omnitron_id=omnitron_id,
        product=Product(f"SKU-{omnitron_id}", "Product"),
        merchant_reference=merchant,
        price=price,
        tax_rate=Fraction(rate),
        quantity=quantity,
        discount_amount=discount,
        status=status,
        id=omnitron_id,
    )


def _order(items: list[OrderItem], expenses: list[Expense] | None = None) -> Order:
    return Order(
        channel=Channel(42, "Trendyol", "trendyol"),
        number="TY-1",
        status=OrderStatus.approved,
        date_placed=NOW,
        currency="try",
        items=items,
        expenses=expenses or [],
        id=1,
    )


# --- the worked example of spec section 4 -------------------------------------------------


def test_worked_example_order_totals() -> None:
    order = _example_order()
    totals = totals_of(order.items, order.expenses)
    assert totals.as_dict() == _expected()["order"]


def test_worked_example_merchant_order_totals() -> None:
    order = _example_order()
    merchant_orders = split(order, NOW)
    assert {mo.reference: mo.totals.as_dict() for mo in merchant_orders} == (
        _expected()["merchant_orders"]
    )
    assert [mo.merchant_reference for mo in merchant_orders] == ["MER000002", "MER000005"]


def test_worked_example_marketplace_expense_totals() -> None:
    order = _example_order()
    expenses = marketplace_expenses(order)
    assert [(e.type, e.amount, e.merchant_reference) for e in expenses] == [("shipping", 500, None)]
    totals = totals_of([], expenses).as_dict()
    expected = _expected()["marketplace_expenses"]
    assert {name: totals[name] for name in expected} == expected
    assert totals["subtotal"] == totals["discount_total"] == 0


def test_worked_example_line_taxes() -> None:
    order = _example_order()
    assert [item_totals(i).tax_total for i in order.items] == [1667, 750, 3333]
    assert [expense_totals(e).tax_total for e in order.expenses] == [98, 83]


def _view(order: Order, merchant_orders: list[MerchantOrder]) -> dict[str, Any]:
    """The parts of `oms show order --json` that identity_holds reads."""
    return {
        "totals": totals_of(order.items, order.expenses).as_dict(),
        "merchant_orders": [{"totals": mo.totals.as_dict()} for mo in merchant_orders],
        "marketplace_expenses": totals_of([], marketplace_expenses(order)).as_dict(),
    }


def test_worked_example_identity_holds() -> None:
    order = _example_order()
    merchant_orders = split(order, NOW)
    combined = _sum([mo.totals for mo in merchant_orders]) + totals_of(
        [], marketplace_expenses(order)
    )
    assert combined == totals_of(order.items, order.expenses)
    view = _view(order, merchant_orders)
    assert view["totals"]["grand_total"] == 35590
    assert identity_holds(view)


@pytest.mark.parametrize("name", TOTAL_NAMES)
def test_identity_holds_detects_any_total_that_does_not_add_up(name: str) -> None:
    order = _example_order()
    view = _view(order, split(order, NOW))
    view["merchant_orders"][0]["totals"][name] += 1
    assert not identity_holds(view)


# --- cancelled and refunded lines -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "canceled_total", "refund_total"),
    [(OrderStatus.cancelled, 4500, 0), (OrderStatus.refunded, 0, 4500)],
)
def test_cancelled_or_refunded_line(
    status: OrderStatus, canceled_total: int, refund_total: int
) -> None:
    live = _item(1, "MER1", 10000)  # tax 1667
    gone = _item(2, "MER1", 2500, quantity=2, discount=500, status=status)  # price_to_pay 4500
    totals = totals_of([live, gone])
    assert totals == Totals(
        subtotal=15000,
        expense_total=0,
        discount_total=500,
        canceled_total=canceled_total,
        refund_total=refund_total,
        tax_total=1667,
        grand_total=10000,
    )


def test_a_fully_cancelled_order_has_no_grand_total_and_no_tax() -> None:
    items = [
        _item(1, "MER1", 10000, status=OrderStatus.cancelled),
        _item(2, "MER2", 3000, quantity=3, discount=100, status=OrderStatus.refunded),
    ]
    totals = totals_of(items)
    assert totals.canceled_total == 10000
    assert totals.refund_total == 8900
    assert totals.tax_total == 0
    assert totals.grand_total == 0
    assert totals.subtotal == 19000


def test_cancelled_and_refunded_statuses_from_an_inbound_order() -> None:
    body = json.loads((EXAMPLES / "order-two-merchants.json").read_text(encoding="utf-8"))
    body["items"][1]["status"] = "100"  # 2 x 25.00 - 5.00 = 45.00 cancelled
    body["items"][2]["status"] = "600"  # 200.00 refunded
    body["amount"] = "110.90"  # 100.00 + 5.90 + 5.00
    order = _stored(parse_inbound_order(body, "MAIN"))
    assert [i.status for i in order.items] == [
        OrderStatus.approved,
        OrderStatus.cancelled,
        OrderStatus.refunded,
    ]
    totals = totals_of(order.items, order.expenses)
    assert totals.canceled_total == 4500
    assert totals.refund_total == 20000
    assert totals.tax_total == 1667 + 98 + 83
    assert totals.grand_total == 11090
    by_merchant = {mo.merchant_reference: mo.totals for mo in split(order, NOW)}
    assert by_merchant["MER000002"].grand_total == 10590
    assert by_merchant["MER000002"].canceled_total == 4500
    assert by_merchant["MER000005"].refund_total == 20000
    assert by_merchant["MER000005"].grand_total == 0
    assert by_merchant["MER000005"].tax_total == 0


def test_cancelled_expense_is_excluded_like_an_item() -> None:
    expense = Expense("shipping", "Shipping", 590, Fraction(20), canceled=True)
    assert expense_totals(expense) == Totals(expense_total=590, canceled_total=590)


@pytest.mark.parametrize(
    ("price_to_pay", "rate", "tax"),
    [(10000, "20", 1667), (4500, "20", 750), (590, "20", 98), (4999, "10", 454), (0, "20", 0)],
)
def test_tax_is_included_in_gross_prices(price_to_pay: int, rate: str, tax: int) -> None:
    assert tax_of(price_to_pay, Fraction(rate)) == tax


def test_tax_rounds_half_up() -> None:
    assert tax_of(105, Fraction(5)) == 5  # exact
    assert tax_of(1, Fraction(100)) == 1  # 1 * 100 / 200 = 0.5 -> 1
    assert tax_of(3, Fraction(100)) == 2  # 1.5 -> 2
    assert tax_of(5, Fraction(100)) == 3  # 2.5 -> 3


# --- splitting rules ------------------------------------------------------------------------


def test_split_refuses_an_expense_naming_a_merchant_with_no_item() -> None:
    order = _order(
        [_item(1, "MER1", 1000)],
        [Expense("shipping", "s", 100, Fraction(20), merchant_reference="MER9")],
    )
    with pytest.raises(InvalidInput, match="MER9"):
        split(order, NOW)


def test_split_needs_a_stored_order() -> None:
    order = _order([_item(1, "MER1", 1000)])
    order.id = None
    with pytest.raises(ValueError, match="stored"):
        split(order, NOW)


# --- the identity, for random orders ----------------------------------------------------------

MERCHANTS = ["MAIN", "MER000002", "MER000005", "MER000007"]
STATUSES = [OrderStatus.approved, OrderStatus.cancelled, OrderStatus.refunded]


@st.composite
def _rates(draw: st.DrawFn) -> Fraction:
    """A percent 0..100 written with up to two decimals, as an inbound order carries it."""
    hundredths = draw(st.integers(min_value=0, max_value=10_000))
    text = f"{hundredths // 100}.{hundredths % 100:02d}"
    if draw(st.booleans()):
        text = text.rstrip("0").rstrip(".") or "0"  # "20.50" -> "20.5", "0.00" -> "0"
    return Fraction(text)


@st.composite
def _items(draw: st.DrawFn, omnitron_id: int) -> OrderItem:
    quantity = draw(st.integers(min_value=1, max_value=5))
    price = draw(st.integers(min_value=0, max_value=1_000_000))
    discount = draw(st.integers(min_value=0, max_value=quantity * price))
    return OrderItem(
        omnitron_id=omnitron_id,
        product=Product(f"SKU-{omnitron_id}", "Product"),
        merchant_reference=draw(st.sampled_from(MERCHANTS)),
        price=price,
        tax_rate=draw(_rates()),
        quantity=quantity,
        discount_amount=discount,
        status=draw(st.sampled_from(STATUSES)),
        id=omnitron_id,
    )


@st.composite
def _orders(draw: st.DrawFn) -> Order:
    count = draw(st.integers(min_value=1, max_value=8))
    items = [draw(_items(1000 + n)) for n in range(count)]
    merchants = sorted({i.merchant_reference for i in items})
    expenses = [
        Expense(
            type="shipping",
            name="fee",
            amount=draw(st.integers(min_value=0, max_value=100_000)),
            tax_rate=draw(_rates()),
            merchant_reference=draw(st.sampled_from([None, *merchants])),
            canceled=draw(st.booleans()),
            refunded=False,
        )
        for _ in range(draw(st.integers(min_value=0, max_value=4)))
    ]
    return _order(items, expenses)


@settings(max_examples=200, deadline=None)
@given(order=_orders())
def test_order_totals_equal_merchant_orders_plus_marketplace_expenses(order: Order) -> None:
    whole = totals_of(order.items, order.expenses)
    merchant_orders: list[MerchantOrder] = split(order, NOW)
    marketplace = totals_of([], marketplace_expenses(order))
    parts = _sum([mo.totals for mo in merchant_orders]) + marketplace
    for name in TOTAL_NAMES:
        assert getattr(whole, name) == getattr(parts, name), name
    assert {mo.merchant_reference for mo in merchant_orders} == {
        i.merchant_reference for i in order.items
    }
    # grand_total = sum of price_to_pay - canceled_total - refund_total
    price_to_pay = whole.subtotal + whole.expense_total - whole.discount_total
    assert whole.grand_total == price_to_pay - whole.canceled_total - whole.refund_total
    assert 0 <= whole.tax_total <= whole.grand_total


@given(
    price_to_pay=st.integers(-(10**12), 10**12),
    rate=st.fractions(min_value=0, max_value=100, max_denominator=10**4),
)
def test_the_integer_tax_formula_equals_the_exact_fraction_rounded_half_away_from_zero(
    price_to_pay: int, rate: Fraction
) -> None:
    """tax_of works in integers; the definition is the exact fraction, rounded."""
    assert tax_of(price_to_pay, rate) == round_half_up(Fraction(price_to_pay) * rate / (100 + rate))
