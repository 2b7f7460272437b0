"""Reads of the merchant side, shared by the CLI and the HTTP API: merchant orders with their
items' states and manual events (spec 9.1), processes (9.2), and event outcomes (9.3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.merchants import record_from
from domain.merchant_effects import offered_events
from domain.merchant_oms import MerchantTransitionRecord, Process
from domain.model import (
    MerchantOrder,
)
from domain.ports import UnitOfWork
from domain.statuses import PackageStatus


def merchant_order_view(
    mo: MerchantOrder, processes: dict[str, Process | None], marketplace: bool
) -> dict[str, Any]:
    """A merchant order's reference, totals, items (reference, omnitron item id, state,
    process, whether it reserves: spec 9.5), its `states` (sorted set) and `manual_events`
    (union over its items of the events each can take now: spec 9.1)."""
    package_status = mo.package.status if mo.package else None
    pairs = [(item.state, item.process) for item in mo.items]
    return {
        "reference": mo.reference,
        "merchant_reference": mo.merchant_reference,
        "totals": mo.totals.as_dict(),
        "package_number": mo.package.number if mo.package else None,
        "merchant_order_items": [
            {
                "reference": item.reference,
                "omnitron_item_id": item.omnitron_item_id,
                "state": item.state,
                "process": item.process,
                "reserves": reserves(processes.get(item.process), item.state),
            }
            for item in mo.items
        ],
        "states": sorted({item.state for item in mo.items}),
        "manual_events": offered(pairs, processes, marketplace, package_status),
    }


def reserves(process: Process | None, state: str) -> bool:
    """Whether the item's state is reserved in its process (spec 9.5): its quantity counts in
    its offer's reservation."""
    return process is not None and process.is_reserved(state)


def processes_of(
    uow: UnitOfWork, merchant_orders: list[MerchantOrder]
) -> dict[str, Process | None]:
    """The processes these merchant orders' items are in (call inside the unit of work)."""
    names = {item.process for mo in merchant_orders for item in mo.items}
    return {name: uow.merchant_processes.get(name) for name in sorted(names)}


def find_merchant_order(
    uow: UnitOfWork, reference: str, merchant_reference: str
) -> dict[str, Any] | None:
    """One merchant's merchant order as `merchant_order_view` shows it, or None when it does not
    exist or belongs to another merchant (the same None: ownership is never revealed)."""
    with uow:
        found = uow.merchant_orders.find(reference, merchant_reference)
        if len(found) != 1:
            return None
        order = uow.orders.get(found[0].order_id)
        marketplace = order is None or order.channel.is_marketplace
        return merchant_order_view(found[0], processes_of(uow, found), marketplace)


def process_rows(uow: UnitOfWork, name: str) -> Process | None:
    with uow:
        return uow.merchant_processes.get(name)


def process_names(uow: UnitOfWork) -> list[str]:
    with uow:
        return uow.merchant_processes.names()


def event_outcomes(engine: Engine, message_id: str) -> list[MerchantTransitionRecord]:
    """The outcomes a merchant event message produced (empty while it is not handled yet)."""
    log = t.merchant_transition_log
    with engine.connect() as connection:
        rows = connection.execute(
            select(log).where(log.c.message_id == message_id).order_by(log.c.id)
        ).all()
    return [record_from(row) for row in rows]


def merchant_order_owner(engine: Engine, reference: str) -> list[str]:
    """The merchants owning merchant orders with this reference (the operator's CLI only)."""
    mo = t.merchant_orders
    with engine.connect() as connection:
        query = select(mo.c.merchant_reference).where(mo.c.reference == reference).distinct()
        return sorted(connection.execute(query).scalars())


def item_owner(engine: Engine, item_reference: str) -> tuple[str, str] | None:
    """(merchant reference, merchant order reference) of a merchant order item, or None."""
    items, mo = t.merchant_order_items, t.merchant_orders
    query = (
        select(mo.c.merchant_reference, mo.c.reference)
        .join(items, items.c.merchant_order_id == mo.c.id)
        .where(items.c.reference == item_reference)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return (row.merchant_reference, row.reference) if row else None


def offered(
    pairs: list[tuple[str, str]], processes: dict[str, Process | None], marketplace: bool,
    package_status: PackageStatus | int | None,
) -> list[str]:  # fmt: skip
    """The union of the manual events these (state, process) pairs can take now."""
    status = None if package_status is None else PackageStatus(package_status)
    manual: set[str] = set()
    for state, name in pairs:
        manual |= offered_events(processes.get(name), state, marketplace, status)
    return sorted(manual)


CUSTOMER_FIELDS = ("first_name", "last_name", "email")
