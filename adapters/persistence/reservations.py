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
from domain.reservations import Delta, OfferKey, settle

UPSERT = DriverStatement(
    "INSERT INTO product_offer_reservations"
    " (merchant_reference, kind, reference, quantity, open_items)"
    " SELECT * FROM unnest(CAST($1 AS VARCHAR[]), CAST($2 AS VARCHAR[]),"
    " CAST($3 AS VARCHAR[]), CAST($4 AS BIGINT[]), CAST($5 AS BIGINT[]))"
    " ON CONFLICT (merchant_reference, kind, reference) DO UPDATE"
    " SET quantity = product_offer_reservations.quantity + excluded.quantity,"
    " open_items = product_offer_reservations.open_items + excluded.open_items"
)


def record_moves(
    connection: Connection, written: Iterable[tuple[str, MerchantOrderItem]]
) -> dict[OfferKey, Delta]:
    """Apply the reservation changes of these (merchant reference, item) state writes, in the
    caller's transaction. Returns the changes applied."""
    processes = SqlMerchantProcessRepository(connection)

    def reserved(process: str, state: str) -> bool:
        found = processes.get(process)
        return found is not None and found.is_reserved(state)

    changes = settle(written, reserved)
    apply(connection, changes)
    return changes


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
