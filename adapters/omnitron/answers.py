"""Omnitron's order answers read against the documented shape (spec section 6), one order at a
time: a malformed order is named with its problem instead of failing everything around it."""

from __future__ import annotations

from typing import Any

import structlog

from domain.omnitron import OmnitronItem, OmnitronOrder

log = structlog.get_logger(__name__)


class Malformed(ValueError):
    pass


def _code(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Malformed(f"{what} is a {type(value).__name__}, not a status code")
    return str(value)


def order_from(data: Any) -> OmnitronOrder:
    """One order of an answer, checked against the documented shape (spec section 6)."""
    if not isinstance(data, dict):
        raise Malformed(f"an order is a {type(data).__name__}, not an object")
    number = data.get("number")
    if isinstance(number, bool) or not isinstance(number, str | int) or number == "":
        raise Malformed(f"an order has no usable 'number' ({number!r:.80})")
    raw_items = data.get("items") or []
    if not isinstance(raw_items, list):
        raise Malformed(f"order {number}: 'items' is a {type(raw_items).__name__}, not a list")
    items = []
    for item in raw_items:
        item_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(item_id, bool) or not isinstance(item_id, int):
            raise Malformed(f"order {number}: an item id is not an integer ({item!r:.80})")
        items.append(OmnitronItem(item_id, _code(item.get("status"), f"item {item_id} status")))
    return OmnitronOrder(str(number), _code(data.get("status"), "the status") or "", items)


def order_or_problem(data: Any, position: int) -> OmnitronOrder | None:
    """The order, or the same order marked with its problem; None when not even its number can
    be read (logged: its packages are then "unknown" this cycle)."""
    try:
        return order_from(data)
    except Malformed as error:
        number = data.get("number") if isinstance(data, dict) else None
        if isinstance(number, str | int) and not isinstance(number, bool) and number != "":
            return OmnitronOrder(str(number), "", [], str(error))
        log.warning("omnitron.malformed_order", position=position, problem=str(error))
        return None
