"""Row <-> domain object conversions that more than one repository needs."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Row

from domain.model import TOTAL_NAMES, Totals

TOTAL_FIELDS = TOTAL_NAMES


def rate_text(rate: Fraction) -> str:
    """An exact decimal text for a rate that came from a decimal string."""
    value = Decimal(rate.numerator) / Decimal(rate.denominator)
    return format(value.normalize(), "f")


def totals_from(row: Row[Any]) -> Totals:
    mapping = row._mapping
    return Totals(**{name: mapping[name] for name in TOTAL_FIELDS})
