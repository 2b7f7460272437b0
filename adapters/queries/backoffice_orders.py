"""The Back Office's order search (spec 12): by an order number, a package number or a merchant
order reference (exact, each through its own index), a channel, an order status and the date
placed; newest first with keyset pagination on the order id (`before`: the last id of the page
shown), so page 500 costs what page 1 costs — an OFFSET would read every row it skips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, union

from adapters.persistence import tables as t
from domain.statuses import OrderStatus

_o, _ch, _mo, _p = t.orders, t.channels, t.merchant_orders, t.packages


@dataclass(frozen=True)
class OrderSearch:
    key: str | None = None  # an order number, a package number or a merchant order reference
    channel_id: int | None = None
    status: int | None = None
    placed_from: datetime | None = None  # inclusive
    placed_to: datetime | None = None  # exclusive
    before: int | None = None  # keyset: order ids below this one
    limit: int = 50


@dataclass(frozen=True)
class OrderPage:
    rows: list[dict[str, Any]]
    next_before: int | None  # the keyset of the next page, None on the last one


def search_orders(engine: Engine, search: OrderSearch) -> OrderPage:
    """One statement: the page's orders (limit + 1 read, to know whether a next page exists)."""
    query = (
        select(
            _o.c.id,
            _o.c.number,
            _o.c.status,
            _o.c.currency,
            _o.c.date_placed,
            _o.c.grand_total,
            _o.c.channel_id,
            _ch.c.name.label("channel_name"),
        )
        .join(_ch, _ch.c.id == _o.c.channel_id)
        .order_by(_o.c.id.desc())
        .limit(search.limit + 1)
    )
    if search.key:
        # one indexed lookup per kind of key, their ids joined to orders by primary key
        named = union(
            select(_o.c.id.label("order_id")).where(_o.c.number == search.key),
            select(_p.c.order_id).where(_p.c.number == search.key),
            select(_mo.c.order_id).where(_mo.c.reference == search.key),
        ).subquery()
        query = query.where(_o.c.id.in_(select(named.c.order_id)))
    if search.channel_id is not None:
        query = query.where(_o.c.channel_id == search.channel_id)
    if search.status is not None:
        query = query.where(_o.c.status == search.status)
    if search.placed_from is not None:
        query = query.where(_o.c.date_placed >= search.placed_from)
    if search.placed_to is not None:
        query = query.where(_o.c.date_placed < search.placed_to)
    if search.before is not None:
        query = query.where(_o.c.id < search.before)
    with engine.connect() as connection:
        found = connection.execute(query).all()
    rows = [
        {
            "id": row.id,
            "number": row.number,
            "status": OrderStatus(row.status).name,
            "status_code": int(row.status),
            "currency": row.currency,
            "date_placed": row.date_placed,
            "grand_total": row.grand_total,
            "channel_id": row.channel_id,
            "channel_name": row.channel_name,
        }
        for row in found[: search.limit]
    ]
    more = len(found) > search.limit
    return OrderPage(rows, rows[-1]["id"] if more and rows else None)


def channels(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        return [(r.id, r.name) for r in connection.execute(select(_ch.c.id, _ch.c.name))]
