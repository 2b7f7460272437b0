"""What an order number and a merchant reference may be (spec section 3). They are joined
into merchant order references (`{number}--{merchant}`) and name folders and URLs, so two
different pairs must never give one reference, and no reference may leave its folder."""

from __future__ import annotations

import re

MERCHANT_REFERENCE_LENGTH = 64
MERCHANT_REFERENCE_CHARACTERS = "A-Z a-z 0-9 . _ -"
SEPARATOR = "--"

# Control characters (Unicode category Cc: C0, DEL, C1) and lone surrogates (category Cs:
# not Unicode text at all; no UTF-8 column stores one).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MERCHANT_CHARACTERS = re.compile(r"[A-Za-z0-9._-]+")


def unprintable(value: str) -> str | None:
    """Why `value` is not printable text, or None: the first control character or lone
    surrogate, by code point and position."""
    found = _UNPRINTABLE.search(value)
    if found is None:
        return None
    kind = "a lone surrogate" if "\ud800" <= found.group() <= "\udfff" else "a control character"
    return f"must not contain {kind} (U+{ord(found.group()):04X} at position {found.start()})"


def order_number_problem(number: str) -> str | None:
    """Why `number` cannot be an order number, or None (its length is the schema's)."""
    if (problem := unprintable(number)) is not None:
        return problem
    if SEPARATOR in number:
        return "must not contain '--' (it joins order number and merchant in references)"
    if number.startswith("-") or number.endswith("-"):
        return "must not start or end with '-' (references join it to the merchant with '--')"
    return None


def merchant_reference_problem(reference: str) -> str | None:
    """Why `reference` cannot be a merchant reference, or None."""
    if not 1 <= len(reference) <= MERCHANT_REFERENCE_LENGTH:
        return f"must be 1 to {MERCHANT_REFERENCE_LENGTH} characters, not {len(reference)}"
    if _MERCHANT_CHARACTERS.fullmatch(reference) is None:
        bad = next(c for c in reference if _MERCHANT_CHARACTERS.fullmatch(c) is None)
        return f"must be characters of {MERCHANT_REFERENCE_CHARACTERS} only, not {bad!r}"
    if reference[0] in "-." or reference[-1] in "-.":
        return "must not start or end with '-' or '.'"
    if SEPARATOR in reference:
        return "must not contain '--' (it joins order number and merchant in references)"
    return None
