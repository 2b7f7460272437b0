"""Money as exact integer minor units (spec section 3 and 4)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from domain.money import (
    MoneyError,
    currency_exponent,
    format_minor_units,
    parse_rate,
    round_half_up,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("12.50", "try", 1250),
        ("12.5", "try", 1250),
        ("12", "try", 1200),
        ("0.01", "try", 1),
        ("0", "try", 0),
        ("0.00", "TRY", 0),
        ("355.90", "TRY", 35590),
        ("99.99", "eur", 9999),
        ("1.00", "USD", 100),
        ("7.05", "Gbp", 705),
        ("1500", "jpy", 1500),
        ("1500", "JPY", 1500),
        ("007.10", "try", 710),
    ],
)
def test_to_minor_units_follows_the_currency_exponent(
    text: str, currency: str, expected: int
) -> None:
    assert to_minor_units(text, currency) == expected


@pytest.mark.parametrize(
    ("text", "currency", "named"),
    [
        ("1.001", "try", "TRY"),
        ("12.345", "EUR", "EUR"),
        ("1.5", "jpy", "JPY"),
        ("1.0", "JPY", "JPY"),
    ],
)
def test_more_decimals_than_the_currency_allows_is_rejected_never_rounded(
    text: str, currency: str, named: str
) -> None:
    with pytest.raises(MoneyError) as caught:
        to_minor_units(text, currency)
    message = str(caught.value)
    assert named in message
    assert "decimals" in message
    assert text in message


@pytest.mark.parametrize("text", ["-1.00", "-0.01", " -5"])
def test_negative_amounts_are_rejected(text: str) -> None:
    with pytest.raises(MoneyError, match="negative"):
        to_minor_units(text, "try")


@pytest.mark.parametrize(
    "text", ["NaN", "nan", "Infinity", "1e3", "1E3", " 1.00", "1.00 ", "", ".5", "1.", "+1", "1,00"]
)
def test_anything_but_a_plain_decimal_is_rejected(text: str) -> None:
    with pytest.raises(MoneyError, match="not a plain decimal string"):
        to_minor_units(text, "try")


def test_a_trailing_newline_is_not_a_plain_decimal() -> None:
    with pytest.raises(MoneyError):
        to_minor_units("1.00\n", "try")


@pytest.mark.parametrize("currency", ["xyz", "", "tr", "try "])
def test_unknown_currency_is_rejected(currency: str) -> None:
    with pytest.raises(MoneyError, match="unknown currency"):
        to_minor_units("1.00", currency)


def test_currency_exponents() -> None:
    assert [currency_exponent(c) for c in ("try", "EUR", "usd", "GBP", "jpy")] == [2, 2, 2, 2, 0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 2), 1),
        (Fraction(3, 2), 2),
        (Fraction(5, 2), 3),
        (Fraction(7, 2), 4),
        (Fraction(0), 0),
        (Fraction(49, 100), 0),
        (Fraction(51, 100), 1),
        (Fraction(1666, 1000), 2),
        (Fraction(10000, 6), 1667),
        (Fraction(-1, 2), -1),
        (Fraction(-5, 2), -3),
        (Fraction(-49, 100), 0),
    ],
)
def test_round_half_up_rounds_halves_away_from_zero(value: Fraction, expected: int) -> None:
    assert round_half_up(value) == expected
    assert isinstance(round_half_up(value), int)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", Fraction(0)), ("20", Fraction(20)), ("8.5", Fraction(17, 2)), ("100", Fraction(100))],
)
def test_parse_rate_keeps_the_rate_exact(text: str, expected: Fraction) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["100.01", "101", "1000"])
def test_parse_rate_rejects_rates_above_100(text: str) -> None:
    with pytest.raises(MoneyError, match="above 100 percent"):
        parse_rate(text)


@pytest.mark.parametrize("text", ["-1", "1e2", "NaN", "", " 20"])
def test_parse_rate_rejects_what_is_not_a_plain_non_negative_decimal(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_rate(text)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (35590, "try", "355.90"),
        (5, "TRY", "0.05"),
        (0, "eur", "0.00"),
        (100, "usd", "1.00"),
        (-5, "try", "-0.05"),
        (-12345, "gbp", "-123.45"),
        (1500, "jpy", "1500"),
        (0, "JPY", "0"),
    ],
)
def test_format_minor_units(amount: int, currency: str, expected: str) -> None:
    assert format_minor_units(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency"), [(0, "try"), (1, "try"), (35590, "eur"), (7, "jpy"), (10**12, "usd")]
)
def test_format_then_parse_round_trips(amount: int, currency: str) -> None:
    assert to_minor_units(format_minor_units(amount, currency), currency) == amount
