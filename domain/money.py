"""Money as integer minor units, parsed exactly from decimal strings (ISO 4217 exponents)."""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

CURRENCY_EXPONENTS: dict[str, int] = {"try": 2, "eur": 2, "usd": 2, "gbp": 2, "jpy": 0}

_DECIMAL = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")
MAX_DECIMAL_LENGTH = 40


class MoneyError(ValueError):
    """A money or rate text that breaks a rule; the message names the rule."""


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency.lower()]
    except KeyError:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise MoneyError(f"unknown currency {currency!r} (known: {known})") from None


def check_decimal_text(text: str) -> str:
    """A non-negative plain decimal: digits, optionally a point and digits; nothing else."""
    if len(text) > MAX_DECIMAL_LENGTH:
        raise MoneyError(f"{text[:12]!r}... is longer than {MAX_DECIMAL_LENGTH} characters")
    if _DECIMAL.fullmatch(text) is None:
        if text.strip().startswith("-"):
            raise MoneyError(f"{text!r} is negative")
        raise MoneyError(
            f"{text!r} is not a plain decimal string (digits with an optional fraction; "
            "no sign, exponent, NaN or spaces)"
        )
    return text


def to_minor_units(text: str, currency: str) -> int:
    """'12.50' TRY -> 1250. More decimals than the currency allows is an error, never rounded."""
    check_decimal_text(text)
    exponent = currency_exponent(currency)
    match = _DECIMAL.fullmatch(text)
    assert match is not None
    whole, fraction = match.group("whole"), match.group("fraction") or ""
    if len(fraction) > exponent:
        raise MoneyError(
            f"{text!r} has {len(fraction)} decimals; {currency.upper()} allows {exponent}"
        )
    return int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")


def format_minor_units(amount: int, currency: str) -> str:
    exponent = currency_exponent(currency)
    if exponent == 0:
        return str(amount)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}"


def parse_rate(text: str) -> Fraction:
    """A tax rate in percent, 0..100, kept exact."""
    check_decimal_text(text)
    rate = Fraction(text)
    if rate > 100:
        raise MoneyError(f"{text!r} is above 100 percent")
    return rate


@lru_cache(maxsize=1024)
def rate_of(text: str) -> Fraction:
    """The exact value of a rate's decimal text, as stored or as sent: few distinct rates
    recur on every line, and parsing a Fraction from text costs more than the line's
    arithmetic (Fractions are immutable, so the cached one is shared safely)."""
    return Fraction(text)


def round_half_up(value: Fraction) -> int:
    """Round a non-negative exact value to the nearest integer, halves away from zero."""
    if value < 0:
        return -round_half_up(-value)
    return int((value + Fraction(1, 2)) // 1)
