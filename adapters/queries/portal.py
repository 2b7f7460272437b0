"""Reads of the merchant portal's pages (spec 12), one merchant's own data only: the order list
(filters by item state, date range, reference or customer name; newest first), a merchant
order's timeline, and the states a filter may name. The merchant order page itself is
`merchant_order_detail` (adapters/queries/merchant_reads.py), the API's read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, exists, func, literal, or_, select

from adapters.persistence import tables as t
from domain.model import TOTAL_NAMES


@dataclass(frozen=True)
class PortalOrderRow:
    reference: str
    order_number: str
    channel: str
    created_at: datetime
    currency: str
    customer: str
    states: list[str]
    totals: dict[str, int]


@dataclass(frozen=True)
class PortalOrderPage:
    count: int
    rows: list[PortalOrderRow]


def _name(first: Any, last: Any) -> str:
    return " ".join(str(part) for part in (first, last) if part)


def portal_order_page(
    engine: Engine,
    merchant_reference: str,
    *,
    state: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> PortalOrderPage:
    """One merchant's merchant orders, newest first (the index on (merchant_reference, id)
    serves the order). `search` matches the merchant order reference, the marketplace order
    number or the customer's name, case-insensitively, anywhere in it."""
    mo, items, orders = t.merchant_orders, t.merchant_order_items, t.orders
    first = orders.c.customer["first_name"].as_string()
    last = orders.c.customer["last_name"].as_string()
    where: list[ColumnElement[bool]] = [mo.c.merchant_reference == merchant_reference]
    if state is not None:
        where.append(exists().where(items.c.merchant_order_id == mo.c.id, items.c.state == state))
    if created_from is not None:
        where.append(mo.c.created_at >= created_from)
    if created_to is not None:
        where.append(mo.c.created_at < created_to)
    joined = mo.join(orders, orders.c.id == mo.c.order_id)
    if search:
        needle = search.lower()
        full = func.coalesce(first, "") + literal(" ") + func.coalesce(last, "")
        where.append(
            or_(
                func.lower(mo.c.reference).contains(needle, autoescape=True),
                func.lower(orders.c.number).contains(needle, autoescape=True),
                func.lower(full).contains(needle, autoescape=True),
            )
        )
    columns = [
        mo,
        orders.c.number.label("order_number"),
        orders.c.currency,
        first.label("first_name"),
        last.label("last_name"),
        t.channels.c.name.label("channel_name"),
    ]
    # filtered: one pass over the merchant's orders, the count riding along (a window); the
    # plain list counts apart (an index-only count) and reads just its page
    filtered = len(where) > 1
    if filtered:
        columns.append(func.count().over().label("total"))
    query = (
        select(*columns)
        .select_from(joined.join(t.channels, t.channels.c.id == orders.c.channel_id))
        .where(*where)
        .order_by(mo.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    counted = select(func.count()).select_from(joined if search else mo).where(*where)
    with engine.connect() as connection:
        if filtered:
            rows = connection.execute(query).all()
            # no row on this page: past the end (or nothing matches); count apart
            count = int(rows[0].total) if rows else int(connection.execute(counted).scalar_one())
        else:
            count = int(connection.execute(counted).scalar_one())
            rows = connection.execute(query).all() if count > offset else []
        states: dict[int, set[str]] = {}
        if rows:
            for r in connection.execute(
                select(items.c.merchant_order_id, items.c.state).where(
                    items.c.merchant_order_id.in_([r.id for r in rows])
                )
            ):
                states.setdefault(r.merchant_order_id, set()).add(r.state)
    return PortalOrderPage(
        count,
        [
            PortalOrderRow(
                reference=r.reference,
                order_number=r.order_number,
                channel=r.channel_name,
                created_at=r.created_at,
                currency=r.currency,
                customer=_name(r.first_name, r.last_name),
                states=sorted(states.get(r.id, set())),
                totals={name: getattr(r, name) for name in TOTAL_NAMES},
            )
            for r in rows
        ],
    )


def merchant_states(engine: Engine) -> list[str]:
    """Every state a merchant process has (the order list's state filter offers these)."""
    tr = t.merchant_transitions
    with engine.connect() as connection:
        found = set(connection.execute(select(tr.c.source_state).distinct()).scalars())
        found |= set(connection.execute(select(tr.c.target_state).distinct()).scalars())
    return sorted(found)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    event: str
    item_reference: str | None
    outcome: str
    source: str
    from_state: str | None
    to_state: str | None
    reason: str


def merchant_order_timeline(
    engine: Engine, reference: str, merchant_reference: str
) -> list[TimelineEntry] | None:
    """The merchant order's merchant transition log, oldest first (the split's create and
    initiate lines, then every event with its outcome and source); None when the merchant
    order is missing or another merchant's."""
    mo, log = t.merchant_orders, t.merchant_transition_log
    with engine.connect() as connection:
        order_ids = list(
            connection.execute(
                select(mo.c.order_id).where(
                    mo.c.reference == reference, mo.c.merchant_reference == merchant_reference
                )
            ).scalars()
        )
        if len(order_ids) != 1:
            return None
        rows = connection.execute(
            select(log)
            .where(log.c.order_id == order_ids[0], log.c.merchant_order_reference == reference)
            .order_by(log.c.id)
        ).all()
    return [
        TimelineEntry(
            at=r.created_at,
            event=r.event,
            item_reference=r.item_reference or None,
            outcome=r.outcome,
            source=r.source,
            from_state=r.from_state,
            to_state=r.to_state,
            reason=r.reason,
        )
        for r in rows
    ]
