"""Reservations kept in step with merchant item states (spec 9.5, docs/reservations.md).

Every writer of a merchant order item's state (the split's insert, a merchant event's save, the
poll's batch update) hands its items here in the same transaction: each item's move from its
stored state to its new one becomes a change of its offer's figure, and the changes of one
statement are applied as one atomic upsert, `quantity = quantity + excluded.quantity`, on rows
taken in key order. No figure is read and written back, so two transactions changing one offer
at once both land (the second waits on the first's row lock, then adds to its committed value)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite

from adapters.persistence import tables as t
from adapters.persistence.array_literal import ints, texts
from adapters.persistence.driver import DriverStatement
from adapters.persistence.merchants import SqlMerchantProcessRepository
from domain.model import MerchantOrderItem
from domain.reservations import Delta, OfferKey, offer_key, settle

INSERT_RESERVED = DriverStatement(
    "INSERT INTO reserved_items"
    " (merchant_order_item_id, merchant_reference, kind, reference, order_id)"
    " SELECT * FROM unnest(CAST($1 AS BIGINT[]), CAST($2 AS VARCHAR[]), CAST($3 AS VARCHAR[]),"
    " CAST($4 AS VARCHAR[]), CAST($5 AS BIGINT[]))"
    " ON CONFLICT (merchant_order_item_id) DO NOTHING"
)
DELETE_RESERVED = DriverStatement(
    "DELETE FROM reserved_items WHERE merchant_order_item_id = ANY(CAST($1 AS BIGINT[]))"
)
UPSERT = DriverStatement(
    "INSERT INTO product_offer_reservations"
    " (merchant_reference, kind, reference, quantity, open_items)"
    " SELECT * FROM unnest(CAST($1 AS VARCHAR[]), CAST($2 AS VARCHAR[]),"
    " CAST($3 AS VARCHAR[]), CAST($4 AS BIGINT[]), CAST($5 AS BIGINT[]))"
    " ON CONFLICT (merchant_reference, kind, reference) DO UPDATE"
    " SET quantity = product_offer_reservations.quantity + excluded.quantity,"
    " open_items = product_offer_reservations.open_items + excluded.open_items"
)


Written = tuple[str, int, MerchantOrderItem]  # merchant reference, order id, item


def record_moves(connection: Connection, written: Iterable[Written]) -> dict[OfferKey, Delta]:
    """Apply the reservation changes of these state writes, in the caller's transaction: the
    figures (one upsert) and the reserved items (rows in, rows out). Returns the changes."""
    triples = list(written)
    processes = SqlMerchantProcessRepository(connection)

    def reserved(process: str, state: str) -> bool:
        found = processes.get(process)
        return found is not None and found.is_reserved(state)

    entered: list[tuple[OfferKey, int, int]] = []
    left: list[int] = []
    for merchant_reference, order_id, item in triples:
        was = item.stored_state is not None and reserved(item.process, item.stored_state)
        now = reserved(item.process, item.state)
        if now and not was and item.id is not None:
            key = offer_key(merchant_reference, item.product_offer_reference, item.sku)
            entered.append((key, order_id, item.id))
        elif was and not now and item.id is not None:
            left.append(item.id)
    changes = settle(((m, item) for m, _, item in triples), reserved)
    apply(connection, changes)
    _track(connection, sorted(entered, key=lambda e: e[2]), sorted(left))
    return changes


def _track(
    connection: Connection, entered: list[tuple[OfferKey, int, int]], left: list[int]
) -> None:
    """The reserved items' rows: in for the items that entered a reserved state, out for those
    that left it."""
    items = t.reserved_items
    if connection.dialect.name == "postgresql":
        if entered:
            INSERT_RESERVED.run(
                connection,
                ints([item_id for _, _, item_id in entered]),
                texts([k.merchant_reference for k, _, _ in entered]),
                texts([k.kind for k, _, _ in entered]),
                texts([k.reference for k, _, _ in entered]),
                ints([order_id for _, order_id, _ in entered]),
            )
        if left:
            DELETE_RESERVED.run(connection, ints(left))
        return
    if entered:
        connection.execute(
            sqlite.insert(items).on_conflict_do_nothing(),
            [
                {
                    "merchant_order_item_id": item_id,
                    "merchant_reference": k.merchant_reference,
                    "kind": k.kind,
                    "reference": k.reference,
                    "order_id": order_id,
                }
                for k, order_id, item_id in entered
            ],
        )
    if left:
        connection.execute(items.delete().where(items.c.merchant_order_item_id.in_(left)))


def apply(connection: Connection, changes: dict[OfferKey, Delta]) -> None:
    """One statement: every row's figure moved by its delta, rows in key order."""
    if not changes:
        return
    keys = sorted(changes)
    if connection.dialect.name == "postgresql":
        UPSERT.run(
            connection,
            texts([k.merchant_reference for k in keys]),
            texts([k.kind for k in keys]),
            texts([k.reference for k in keys]),
            ints([changes[k].quantity for k in keys]),
            ints([changes[k].items for k in keys]),
        )
        return
    table = t.product_offer_reservations
    statement = sqlite.insert(table).values(
        [
            {
                "merchant_reference": k.merchant_reference,
                "kind": k.kind,
                "reference": k.reference,
                "quantity": changes[k].quantity,
                "open_items": changes[k].items,
            }
            for k in keys
        ]
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["merchant_reference", "kind", "reference"],
            set_={
                "quantity": table.c.quantity + statement.excluded.quantity,
                "open_items": table.c.open_items + statement.excluded.open_items,
            },
        )
    )


# every reservation summed from the items, as migration 0014 backfills them
REBUILD = (
    "INSERT INTO product_offer_reservations "
    "(merchant_reference, kind, reference, quantity, open_items) "
    "SELECT mo.merchant_reference, "
    "CASE WHEN oi.product_offer_reference IS NULL OR oi.product_offer_reference = '' "
    "THEN 'sku' ELSE 'offer' END, "
    "CASE WHEN oi.product_offer_reference IS NULL OR oi.product_offer_reference = '' "
    "THEN oi.sku ELSE oi.product_offer_reference END, "
    "SUM(oi.quantity), COUNT(*) "
    "FROM merchant_order_items moi "
    "JOIN merchant_process_states s ON s.process = moi.process AND s.state = moi.state "
    "AND s.reserved "
    "JOIN merchant_orders mo ON mo.id = moi.merchant_order_id "
    "JOIN order_items oi ON oi.id = moi.order_item_id "
    "GROUP BY 1, 2, 3"
)


REBUILD_ITEMS = (
    "INSERT INTO reserved_items "
    "(merchant_order_item_id, merchant_reference, kind, reference, order_id) "
    "SELECT moi.id, mo.merchant_reference, "
    "CASE WHEN oi.product_offer_reference IS NULL OR oi.product_offer_reference = '' "
    "THEN 'sku' ELSE 'offer' END, "
    "CASE WHEN oi.product_offer_reference IS NULL OR oi.product_offer_reference = '' "
    "THEN oi.sku ELSE oi.product_offer_reference END, mo.order_id "
    "FROM merchant_order_items moi "
    "JOIN merchant_process_states s ON s.process = moi.process AND s.state = moi.state "
    "AND s.reserved "
    "JOIN merchant_orders mo ON mo.id = moi.merchant_order_id "
    "JOIN order_items oi ON oi.id = moi.order_item_id"
)


def rebuild(connection: Connection) -> None:
    """Every reservation and reserved item recomputed from the items (for rows written around
    the repositories: the benchmarks' set-based seeds). Not for a running pipeline: it
    replaces the figures."""
    connection.execute(t.product_offer_reservations.delete())
    connection.execute(t.reserved_items.delete())
    connection.exec_driver_sql(REBUILD)
    connection.exec_driver_sql(REBUILD_ITEMS)
