"""Row <-> domain object conversions that more than one repository needs."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from sqlalchemy import Row

from domain.model import TOTAL_NAMES, Totals

TOTAL_FIELDS = TOTAL_NAMES


@lru_cache(maxsize=1024)
def rate_text(rate: Fraction) -> str:
    """An exact decimal text for a rate that came from a decimal string (few distinct rates
    recur on every line: each is formatted once)."""
    value = Decimal(rate.numerator) / Decimal(rate.denominator)
    return format(value.normalize(), "f")


def totals_from(row: Row[Any]) -> Totals:
    """From a row with the totals' columns (SQLAlchemy's Row, or driver.py's named tuple)."""
    return Totals(**{name: getattr(row, name) for name in TOTAL_FIELDS})
