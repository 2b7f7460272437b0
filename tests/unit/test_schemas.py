"""The inbound order contract (spec section 3): every rule is enforced, and a rejection names the
field path and the rule; valid variants parse into the domain order."""

from __future__ import annotations

import copy
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from domain.errors import InvalidInput
from domain.model import Order
from domain.statuses import OrderStatus
from schemas.convert import parse_inbound_order
from schemas.envelope import single_body
from schemas.errors import InvalidMessage
from schemas.split_order import parse_split_order

Body = dict[str, Any]

BASE: Body = {
    "number": "TY-1",
    "channel": {"id": 42, "name": "Trendyol", "channel_type": "trendyol"},
    "status": "400",
    "date_placed": "2026-11-20T10:15:00+03:00",
    "currency": "try",
    "items": [
        {
            "id": 1,
            "product": {"sku": "SKU-1", "name": "Kettle"},
            "merchant_reference": "MER000002",
            "quantity": 1,
            "price": "100.00",
            "tax_rate": "20",
        },
        {
            "id": 2,
            "product": {"sku": "SKU-2", "name": "Mug"},
            "merchant_reference": "MER000005",
            "quantity": 2,
            "price": "25.00",
            "tax_rate": "20",
            "discount_amount": "5.00",
        },
    ],
}


def body(**changes: Any) -> Body:
    result = copy.deepcopy(BASE)
    result.update(copy.deepcopy(changes))
    return result


def with_item(index: int, **changes: Any) -> Body:
    result = body()
    result["items"][index].update(changes)
    return result


def without(*keys: str) -> Body:
    result = body()
    for key in keys:
        del result[key]
    return result


def parse(message: Any) -> Order:
    return parse_inbound_order(message, "MAIN")


def rejection(message: Any) -> str:
    with pytest.raises(InvalidMessage) as caught:
        parse(message)
    assert isinstance(caught.value, InvalidInput), "must be dead-lettered, never retried"
    return str(caught.value)


def many_items(count: int) -> Body:
    item = BASE["items"][0]
    return body(items=[dict(item, id=n + 1) for n in range(count)])


def test_the_base_body_is_valid() -> None:
    order = parse(body())
    assert order.number == "TY-1"
    assert [i.price for i in order.items] == [10000, 2500]


FEE = {"type": "fee", "name": "x", "amount": "1.00", "tax_rate": "0"}

# (body, field path, words of the rule)
INVALID: dict[str, tuple[Callable[[], Any], str, str]] = {
    "missing number": (lambda: without("number"), "number", "Field required"),
    "empty number": (lambda: body(number=""), "number", "at least 1 character"),
    "number longer than 128": (lambda: body(number="N" * 129), "number", "at most 128"),
    "missing channel": (lambda: without("channel"), "channel", "Field required"),
    "channel.id not int": (
        lambda: body(channel={"id": "42", "name": "Trendyol", "channel_type": "trendyol"}),
        "channel.id",
        "valid integer",
    ),
    "missing status": (lambda: without("status"), "status", "Field required"),
    "unknown order status": (lambda: body(status="401"), "status", "unknown Omnitron status"),
    "unknown item status": (
        lambda: with_item(1, status="999"),
        "items[1].status",
        "unknown Omnitron status code '999'",
    ),
    "date_placed without offset": (
        lambda: body(date_placed="2026-11-20T10:15:00"),
        "date_placed",
        "timezone",
    ),
    "unknown currency": (lambda: body(currency="XYZ"), "currency", "unknown currency 'XYZ'"),
    "more decimals than the currency allows": (
        lambda: with_item(0, price="100.001"),
        "items[0].price",
        "3 decimals; TRY allows 2",
    ),
    "JPY amount with decimals": (
        lambda: body(
            currency="JPY",
            shipping_amount="0",
            items=[dict(BASE["items"][0], price="100.5", discount_amount="0")],
        ),
        "items[0].price",
        "1 decimals; JPY allows 0",
    ),
    "negative money": (lambda: with_item(0, price="-100.00"), "items[0].price", "negative"),
    "negative discount": (
        lambda: with_item(1, discount_amount="-1.00"),
        "items[1].discount_amount",
        "negative",
    ),
    "NaN": (lambda: with_item(0, price="NaN"), "items[0].price", "not a plain decimal"),
    "exponent": (lambda: with_item(0, price="1e2"), "items[0].price", "not a plain decimal"),
    "JSON number instead of string": (
        lambda: with_item(0, price=100.0),
        "items[0].price",
        "must be a decimal string",
    ),
    "JSON number for the amount": (lambda: body(amount=145), "amount", "must be a decimal string"),
    "tax_rate above 100": (
        lambda: with_item(0, tax_rate="100.01"),
        "items[0].tax_rate",
        "above 100 percent",
    ),
    "negative tax_rate": (lambda: with_item(0, tax_rate="-1"), "items[0].tax_rate", "negative"),
    "shipping_tax_rate above 100": (
        lambda: body(shipping_tax_rate="101"),
        "shipping_tax_rate",
        "above 100 percent",
    ),
    "quantity 0": (lambda: with_item(0, quantity=0), "items[0].quantity", "greater than or equal"),
    "quantity not int": (lambda: with_item(0, quantity="2"), "items[0].quantity", "integer"),
    "discount above quantity x price": (
        lambda: with_item(1, discount_amount="50.01"),
        "items[1].discount_amount",
        "50.01 is more than quantity x price (50.00)",
    ),
    "zero items": (lambda: body(items=[]), "items", "at least 1 item"),
    "more than 1000 items": (lambda: many_items(1001), "items", "at most 1000 items"),
    "duplicate item ids": (
        lambda: body(items=[BASE["items"][0], dict(BASE["items"][1], id=1)]),
        "items",
        "item id 1 appears more than once",
    ),
    "item without product": (
        lambda: body(items=[{k: v for k, v in BASE["items"][0].items() if k != "product"}]),
        "items[0].product",
        "Field required",
    ),
    "expense naming a merchant with no item": (
        lambda: body(
            expenses=[
                {
                    "type": "shipping",
                    "name": "x",
                    "amount": "1.00",
                    "tax_rate": "20",
                    "merchant_reference": "MER000099",
                }
            ]
        ),
        "expenses[0].merchant_reference",
        "'MER000099', which has no item in the order",
    ),
    "expense amount with too many decimals": (
        lambda: body(expenses=[{"type": "fee", "name": "x", "amount": "1.001", "tax_rate": "0"}]),
        "expenses[0].amount",
        "3 decimals",
    ),
    # spec 3: references are joined with "--", so no two pairs may give one (issue 21, item 9)
    "number ending in '-'": (lambda: body(number="N-"), "number", "must not start or end with '-'"),
    "number starting with '-'": (lambda: body(number="-N"), "number", "not start or end with '-'"),
    "number with '--'": (lambda: body(number="N--1"), "number", "must not contain '--'"),
    "number with a newline": (lambda: body(number="N\n1"), "number", "control character (U+000A"),
    "merchant reference starting with '-'": (
        lambda: with_item(0, merchant_reference="-M"),
        "items[0].merchant_reference",
        "must not start or end with '-' or '.'",
    ),
    "merchant reference ending with '.'": (
        lambda: with_item(0, merchant_reference="M."),
        "items[0].merchant_reference",
        "must not start or end with '-' or '.'",
    ),
    "merchant reference with '--'": (
        lambda: with_item(0, merchant_reference="M--X"),
        "items[0].merchant_reference",
        "must not contain '--'",
    ),
    "merchant reference with '/'": (
        lambda: with_item(0, merchant_reference="M/"),
        "items[0].merchant_reference",
        "characters of A-Z a-z 0-9 . _ - only, not '/'",
    ),
    "merchant reference that climbs folders": (
        lambda: with_item(0, merchant_reference="../x"),
        "items[0].merchant_reference",
        "only, not '/'",
    ),
    "merchant reference with a space": (
        lambda: with_item(0, merchant_reference="MER 2"),
        "items[0].merchant_reference",
        "only, not ' '",
    ),
    "merchant reference longer than 64": (
        lambda: with_item(0, merchant_reference="M" * 65),
        "items[0].merchant_reference",
        "at most 64 characters",
    ),
    "expense merchant reference ending with '-'": (
        lambda: body(
            expenses=[dict(FEE, merchant_reference="MER000002-")],
        ),
        "expenses[0].merchant_reference",
        "must not start or end with '-' or '.'",
    ),
    # spec 9.3: text fields hold no control characters (issue 21, item 12)
    "product name with a tab": (
        lambda: with_item(0, product={"sku": "S", "name": "Kettle\t2"}),
        "items[0].product.name",
        "control character (U+0009 at position 6)",
    ),
    "sku with DEL": (
        lambda: with_item(1, product={"sku": "S\x7f", "name": "Mug"}),
        "items[1].product.sku",
        "control character (U+007F",
    ),
    "channel name with a C1 control": (
        lambda: body(channel={"id": 42, "name": "Trend\x85yol", "channel_type": "trendyol"}),
        "channel.name",
        "control character (U+0085",
    ),
    "tracking number with ESC": (
        lambda: body(tracking_number="7330\x1b"),
        "tracking_number",
        "control character (U+001B",
    ),
    "expense type with a NUL": (
        lambda: body(expenses=[{"type": "f\x00", "name": "x", "amount": "1.00", "tax_rate": "0"}]),
        "expenses[0].type",
        "must not contain a NUL character",
    ),
    "lone surrogate in a product name": (
        lambda: with_item(0, product={"sku": "S", "name": "K\ud800"}),
        "items[0].product.name",
        "lone surrogate (U+D800 at position 1)",
    ),
    # free-form objects are stored as given, but no column stores a NUL or a lone surrogate
    "NUL in the customer": (
        lambda: body(customer={"first_name": "A\x00"}),
        "customer.first_name",
        "must not contain a NUL character (at position 1)",
    ),
    "lone surrogate in an address": (
        lambda: body(shipping_address={"lines": ["x", "\udc00"]}),
        "shipping_address.lines[1]",
        "lone surrogate (U+DC00",
    ),
    "NUL in an unknown field's key": (
        lambda: with_item(0, **{"gift\x00": True}),
        "items[0].gift\\x00",
        "its key must not contain a NUL character",
    ),
    "body not an object": (lambda: [BASE], "body", "must be a JSON object, got list"),
    "body a string": (lambda: "{}", "body", "must be a JSON object, got str"),
}


@pytest.mark.parametrize(("make", "path", "rule"), INVALID.values(), ids=INVALID.keys())
def test_invalid_order_is_rejected_naming_the_field_and_the_rule(
    make: Callable[[], Any], path: str, rule: str
) -> None:
    reason = rejection(make())
    assert f"{path}: " in reason
    assert rule in reason


def test_amount_different_from_the_computed_grand_total_gives_both_figures() -> None:
    # 100.00 + 2 x 25.00 - 5.00 = 145.00
    reason = rejection(body(amount="150.00"))
    assert reason == "amount: 150.00 does not equal the computed grand total 145.00"


def test_amount_equal_to_the_computed_grand_total_is_accepted() -> None:
    order = parse(body(amount="150.00", shipping_amount="5.00"))
    assert order.number == "TY-1"


def test_every_broken_structural_rule_is_reported_at_once() -> None:
    message = body(number="", shipping_amount="1e1")
    message["items"][1]["discount_amount"] = "-1"
    reason = rejection(message)
    assert "number: " in reason
    assert "shipping_amount: " in reason
    assert "items[1].discount_amount: " in reason


def test_every_broken_money_rule_is_reported_at_once() -> None:
    message = body(
        expenses=[
            {
                "type": "fee",
                "name": "x",
                "amount": "1.00",
                "tax_rate": "0",
                "merchant_reference": "MER9",
            }
        ]
    )
    message["items"][0]["price"] = "1.001"
    message["items"][1]["discount_amount"] = "99.00"
    reason = rejection(message)
    assert "items[0].price: " in reason
    assert "items[1].discount_amount: " in reason
    assert "expenses[0].merchant_reference: " in reason


def test_exactly_1000_items_and_a_128_character_number_are_accepted() -> None:
    message = many_items(1000)
    message["number"] = "N" * 128
    order = parse(message)
    assert len(order.items) == 1000
    assert len(order.number) == 128


# --- valid variants --------------------------------------------------------------------------


def test_two_orders_can_no_longer_make_one_merchant_order_reference() -> None:
    """`N-` with merchant `M` and `N` with merchant `-M` both made `N---M`: the second split
    failed on the unique reference and was retried until dead-lettered (issue 21, item 9)."""
    first = body(number="N-", items=[dict(BASE["items"][0], merchant_reference="M")])
    second = body(number="N", items=[dict(BASE["items"][0], merchant_reference="-M")])
    assert rejection(first).startswith("number: must not start or end with '-'")
    assert rejection(second).startswith("items[0].merchant_reference: must not start or end")


@pytest.mark.parametrize("merchant", ["M", "MER000002", "mer.0_2-a", "A" * 64, "1.2"])
def test_merchant_references_of_the_allowed_characters_are_accepted(merchant: str) -> None:
    order = parse(with_item(0, merchant_reference=merchant))
    assert order.items[0].merchant_reference == merchant


def test_free_form_objects_keep_other_control_characters_and_escaped_text() -> None:
    """Addresses may hold line breaks (stored as given, spec 3); text that only spells a NUL
    escape (a backslash, then u0000) is no NUL, and was refused before."""
    message = body(shipping_address={"lines": "Flat 2\nMain St\t5"}, note="C:\\u0000")
    order = parse(message)
    assert order.shipping_address == {"lines": "Flat 2\nMain St\t5"}
    assert order.extra == {"note": "C:\\u0000"}


def test_unknown_extra_fields_are_kept() -> None:
    message = body(platform={"name": "ty", "v": 2}, note="gift")
    message["items"][0]["color"] = "red"
    order = parse(message)
    assert order.extra == {"platform": {"name": "ty", "v": 2}, "note": "gift"}
    assert order.items[0].extra == {"color": "red"}
    assert order.items[1].extra == {}


@pytest.mark.parametrize("merchant", ["absent", None])
def test_item_with_no_merchant_belongs_to_the_main_merchant(merchant: str | None) -> None:
    message = body()
    if merchant == "absent":
        del message["items"][0]["merchant_reference"]
    else:
        message["items"][0]["merchant_reference"] = None
    order = parse_inbound_order(message, "OPERATOR")
    assert [i.merchant_reference for i in order.items] == ["OPERATOR", "MER000005"]


def test_shipping_amount_becomes_a_marketplace_expense() -> None:
    order = parse(body(shipping_amount="5.00", shipping_tax_rate="20"))
    assert [(e.type, e.amount, e.tax_rate, e.merchant_reference) for e in order.expenses] == [
        ("shipping", 500, Fraction(20), None)
    ]


def test_no_shipping_amount_means_no_marketplace_expense() -> None:
    assert parse(body()).expenses == []


def test_expenses_are_converted_to_minor_units() -> None:
    expense = {
        "type": "shipping",
        "name": "MER000002 shipping",
        "amount": "5.90",
        "tax_rate": "20",
        "merchant_reference": "MER000002",
    }
    order = parse(body(expenses=[expense]))
    assert [(e.name, e.amount, e.merchant_reference) for e in order.expenses] == [
        ("MER000002 shipping", 590, "MER000002")
    ]


@pytest.mark.parametrize("currency", ["try", "TRY", "Try"])
def test_currency_in_any_case_is_accepted_and_stored_lower_case(currency: str) -> None:
    order = parse(body(currency=currency))
    assert order.currency == "try"
    assert order.items[0].price == 10000


def test_defaults_of_an_item() -> None:
    message = body()
    item = message["items"][0]
    del item["quantity"]
    order = parse(message)
    first = order.items[0]
    assert first.quantity == 1
    assert first.discount_amount == 0
    assert first.status is OrderStatus.approved
    assert first.tax_rate == Fraction(20)


def test_date_placed_in_utc_with_z_is_accepted() -> None:
    order = parse(body(date_placed="2026-11-20T07:15:00Z"))
    assert order.date_placed.utcoffset() is not None


def test_jpy_order_with_explicit_zero_defaults() -> None:
    item = dict(BASE["items"][0], price="1500", discount_amount="0")
    order = parse(body(currency="JPY", shipping_amount="0", amount="1500", items=[item]))
    assert order.currency == "jpy"
    assert order.items[0].price == 1500


def test_jpy_order_with_no_decimals() -> None:
    item = {k: v for k, v in BASE["items"][0].items() if k != "discount_amount"}
    order = parse(body(currency="JPY", items=[dict(item, price="1500")]))
    assert order.items[0].price == 1500


def test_tax_rate_just_above_100_is_rejected() -> None:
    rejection(with_item(0, tax_rate="100.00000000000000001"))


@pytest.mark.parametrize("field", ["price", "tax_rate"])
def test_absurdly_long_decimal_is_a_validation_error(field: str) -> None:
    rejection(with_item(0, **{field: "0" * 5000 + "1"}))


@pytest.mark.parametrize("status", [400, " 400", "0400"])
def test_status_must_be_an_exact_code_string(status: Any) -> None:
    rejection(body(status=status))


# --- envelope and internal messages ------------------------------------------------------------


def test_single_body_returns_the_one_positional_argument() -> None:
    assert single_body(({"number": "1"},), {}) == {"number": "1"}


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), (({}, {}), {}), (({},), {"body": {}}), ((), {"body": {}})],
    ids=["no args", "two args", "kwargs", "only kwargs"],
)
def test_single_body_rejects_anything_but_one_body(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        single_body(args, kwargs)
    assert str(caught.value).startswith("args: expected exactly one body")
    assert f"got {len(args)} args" in str(caught.value)


def test_parse_split_order_accepts_an_order_id() -> None:
    assert parse_split_order({"order_id": 7}).order_id == 7


@pytest.mark.parametrize(
    ("message", "path", "rule"),
    [
        ({"order_id": "x"}, "order_id", "valid integer"),
        ({"order_id": 0}, "order_id", "greater than or equal to 1"),
        ({}, "order_id", "Field required"),
        ({"order_id": 1, "extra": True}, "extra", "Extra inputs are not permitted"),
        ([1], "body", "valid dictionary"),
    ],
)
def test_parse_split_order_rejects_bad_messages(message: Any, path: str, rule: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        parse_split_order(message)
    assert f"{path}: " in str(caught.value)
    assert rule in str(caught.value)
