"""Reads of product offer reservations (spec 9.5), shared by `oms reservations`, the HTTP API
and the web pages. Stored figures come from `product_offer_reservations` (kept in step by every
state change: adapters/persistence/reservations.py); the oldest open order of an offer is the
first order (in the order received) of its rows in `reserved_items`, kept by the same writers.

    reservation_page(engine, merchant=, offer=, sku=, offset=, limit=) -> ReservationPage
    reservation_of(engine, key) -> Reservation | None        one offer (or SKU) of one merchant
    verify_reservations(engine) -> list[Difference]          stored vs recomputed from the items
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, select

from adapters.persistence import tables as t
from domain.reservations import (
    OFFER,
    SKU,
    Difference,
    OfferKey,
    Reservation,
    differences,
)


@dataclass(frozen=True)
class ReservationPage:
    count: int
    results: list[Reservation]


def _filters(merchant: str | None, offer: str | None, sku: str | None) -> list[Any]:
    r = t.product_offer_reservations.c
    where: list[ColumnElement[bool]] = [r.open_items > 0]  # rows of offers nothing holds now
    if merchant is not None:
        where.append(r.merchant_reference == merchant)
    if offer is not None:
        where += [r.kind == OFFER, r.reference == offer]
    if sku is not None:
        where += [r.kind == SKU, r.reference == sku]
    return where


def reservation_page(
    engine: Engine,
    *,
    merchant: str | None = None,
    offer: str | None = None,
    sku: str | None = None,
    offset: int = 0,
    limit: int | None = 20,
) -> ReservationPage:
    """Offers with something reserved, by merchant, kind and reference; `offer` and `sku`
    exclude each other (a reservation is keyed by one of them). `limit=None`: every row."""
    if offer is not None and sku is not None:
        raise ValueError("give an offer or a SKU, not both")
    r = t.product_offer_reservations.c
    where = _filters(merchant, offer, sku)
    query = (
        select(r.merchant_reference, r.kind, r.reference, r.quantity, r.open_items)
        .where(*where)
        .order_by(r.merchant_reference, r.kind, r.reference)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count()).select_from(t.product_offer_reservations).where(*where)
        ).scalar_one()
        rows = list(connection.execute(query)) if count else []
        results = [_with_oldest(connection, row) for row in rows]
    return ReservationPage(int(count), results)


def reservation_of(engine: Engine, key: OfferKey) -> Reservation | None:
    """One offer's reservation (None: nothing of it was ever reserved): a primary-key read and
    one index read for its oldest open order."""
    r = t.product_offer_reservations.c
    with engine.connect() as connection:
        row = connection.execute(
            select(r.merchant_reference, r.kind, r.reference, r.quantity, r.open_items).where(
                r.merchant_reference == key.merchant_reference,
                r.kind == key.kind,
                r.reference == key.reference,
            )
        ).first()
        return None if row is None else _with_oldest(connection, row)


def _with_oldest(connection: Connection, row: Any) -> Reservation:
    key = OfferKey(row.merchant_reference, row.kind, row.reference)
    number, placed = _oldest(connection, key) if row.open_items > 0 else (None, None)
    return Reservation(key, int(row.quantity), int(row.open_items), number, placed)


def _oldest(connection: Connection, key: OfferKey) -> tuple[str | None, str | None]:
    """The first order (in the order received) holding a reserved item of the offer: the first
    row of the key in `ix_reserved_items_offer_order`, whatever else of the offer is stored."""
    r, o = t.reserved_items.c, t.orders.c
    found = connection.execute(
        select(o.number, o.date_placed)
        .select_from(t.reserved_items.join(t.orders, o.id == r.order_id))
        .where(
            r.merchant_reference == key.merchant_reference,
            r.kind == key.kind,
            r.reference == key.reference,
        )
        .order_by(r.order_id)
        .limit(1)
    ).first()
    if found is None:
        return None, None
    return found.number, found.date_placed.isoformat()


def recomputed(connection: Connection) -> dict[OfferKey, tuple[int, int]]:
    """Every reservation summed from the items (spec 9.5's definition)."""
    oi, moi, mo, s = (
        t.order_items.c,
        t.merchant_order_items.c,
        t.merchant_orders.c,
        t.merchant_process_states.c,
    )
    no_offer = (oi.product_offer_reference.is_(None)) | (oi.product_offer_reference == "")
    kind = case((no_offer, SKU), else_=OFFER)
    reference = case((no_offer, oi.sku), else_=oi.product_offer_reference)
    query = (
        select(
            mo.merchant_reference,
            kind.label("kind"),
            reference.label("reference"),
            func.sum(oi.quantity),
            func.count(),
        )
        .select_from(
            t.merchant_order_items.join(
                t.merchant_process_states,
                and_(s.process == moi.process, s.state == moi.state, s.reserved),
            )
            .join(t.merchant_orders, mo.id == moi.merchant_order_id)
            .join(t.order_items, oi.id == moi.order_item_id)
        )
        .group_by(mo.merchant_reference, kind, reference)
    )
    return {
        OfferKey(m, k, ref): (int(quantity), int(items))
        for m, k, ref, quantity, items in connection.execute(query)
    }


def stored(connection: Connection) -> dict[OfferKey, tuple[int, int, int]]:
    """Per offer: the stored quantity and open items, and its rows in reserved_items."""
    r, ri = t.product_offer_reservations.c, t.reserved_items.c
    found: dict[OfferKey, tuple[int, int, int]] = {}
    rows = connection.execute(
        select(r.merchant_reference, r.kind, r.reference, r.quantity, r.open_items)
    )
    for m, k, ref, quantity, items in rows:
        if quantity or items:  # a row at zero is no reservation
            found[OfferKey(m, k, ref)] = (int(quantity), int(items), 0)
    tracked = connection.execute(
        select(ri.merchant_reference, ri.kind, ri.reference, func.count()).group_by(
            ri.merchant_reference, ri.kind, ri.reference
        )
    )
    for m, k, ref, count in tracked:
        quantity, items, _ = found.get(OfferKey(m, k, ref), (0, 0, 0))
        found[OfferKey(m, k, ref)] = (quantity, items, int(count))
    return found


def verify_reservations(engine: Engine) -> list[Difference]:
    """Each offer whose stored figure is not the sum recomputed from its items, read in one
    snapshot (REPEATABLE READ on PostgreSQL: both sums see the same committed moment)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            expected = {key: (q, n, n) for key, (q, n) in recomputed(connection).items()}
            return differences(stored(connection), expected)
