"""Reads of the merchant side, shared by the CLI and the HTTP API: merchant orders with their
items' states and manual events (spec 9.1), processes (9.2), and event outcomes (9.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, exists, func, select

from adapters.persistence import tables as t
from adapters.persistence.codec import rate_text
from adapters.persistence.merchants import SqlMerchantProcessRepository, record_from
from domain.merchant_effects import offered_events
from domain.merchant_oms import MerchantTransitionRecord, Process
from domain.model import (
    TOTAL_NAMES,
    MerchantOrder,
    MerchantOrderItem,
    OrderItem,
    is_marketplace_type,
)
from domain.packaging import package_tracking_number
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
                "reserves": _reserves(processes.get(item.process), item.state),
            }
            for item in mo.items
        ],
        "states": sorted({item.state for item in mo.items}),
        "manual_events": _offered(pairs, processes, marketplace, package_status),
    }


def _reserves(process: Process | None, state: str) -> bool:
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


# -- the merchant portal (spec 11): one merchant's own merchant orders only --------------------


@dataclass(frozen=True)
class MerchantOrderPage:
    count: int
    rows: list[dict[str, Any]]


def merchant_order_page(
    engine: Engine,
    merchant_reference: str,
    *,
    state: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    offset: int = 0,
    limit: int = 20,
) -> MerchantOrderPage:
    """One merchant's merchant orders, newest first: reference, marketplace order number,
    currency, created_at, `states`, `manual_events`, totals. `state` keeps the merchant orders
    with at least one item in that state (the state is among their `states`)."""
    mo, items = t.merchant_orders, t.merchant_order_items
    where: list[ColumnElement[bool]] = [mo.c.merchant_reference == merchant_reference]
    if state is not None:
        where.append(exists().where(items.c.merchant_order_id == mo.c.id, items.c.state == state))
    if created_from is not None:
        where.append(mo.c.created_at >= created_from)
    if created_to is not None:
        where.append(mo.c.created_at < created_to)
    query = (
        select(
            mo,
            t.orders.c.number.label("order_number"),
            t.orders.c.currency,
            t.channels.c.channel_type,
            t.packages.c.status.label("package_status"),
        )
        .join(t.orders, t.orders.c.id == mo.c.order_id)
        .join(t.channels, t.channels.c.id == t.orders.c.channel_id)
        .outerjoin(t.packages, t.packages.c.merchant_order_id == mo.c.id)
        .where(*where)
        .order_by(mo.c.id.desc())
    )
    counted = select(func.count()).select_from(mo).where(*where)
    with engine.connect() as connection:
        count = int(connection.execute(counted).scalar_one())
        rows = connection.execute(query.offset(offset).limit(limit)).all() if count else []
        states: dict[int, list[tuple[str, str]]] = {}
        if rows:
            for r in connection.execute(
                select(items.c.merchant_order_id, items.c.state, items.c.process).where(
                    items.c.merchant_order_id.in_([r.id for r in rows])
                )
            ):
                states.setdefault(r.merchant_order_id, []).append((r.state, r.process))
        repository = SqlMerchantProcessRepository(connection)
        names = sorted({process for pairs in states.values() for _, process in pairs})
        processes = {name: repository.get(name) for name in names}
    return MerchantOrderPage(count, [_listed(r, states.get(r.id, []), processes) for r in rows])


def _offered(
    pairs: list[tuple[str, str]], processes: dict[str, Process | None], marketplace: bool,
    package_status: PackageStatus | int | None,
) -> list[str]:  # fmt: skip
    """The union of the manual events these (state, process) pairs can take now."""
    status = None if package_status is None else PackageStatus(package_status)
    manual: set[str] = set()
    for state, name in pairs:
        manual |= offered_events(processes.get(name), state, marketplace, status)
    return sorted(manual)


def _listed(
    row: Any, pairs: list[tuple[str, str]], processes: dict[str, Process | None]
) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "order_number": row.order_number,
        "currency": row.currency,
        "created_at": row.created_at.isoformat(),
        "states": sorted({state for state, _ in pairs}),
        "manual_events": _offered(
            pairs, processes, is_marketplace_type(row.channel_type), row.package_status
        ),
        "totals": {name: getattr(row, name) for name in TOTAL_NAMES},
    }


def merchant_order_detail(
    uow: UnitOfWork, reference: str, merchant_reference: str
) -> dict[str, Any] | None:
    """Seed 000's merchant order page: `customer`, `shipment`, `overview` (this merchant's items
    with their states and manual events) and the merchant order's own `totals` — nothing of
    other merchants, no marketplace-order totals. None when missing or another merchant's."""
    with uow:
        found = uow.merchant_orders.find(reference, merchant_reference)
        if len(found) != 1:
            return None
        mo = found[0]
        order = uow.orders.get(mo.order_id)
        if order is None:
            return None
        package = mo.package
        shipment = None
        if package is not None and package.id is not None:
            shipment = uow.shipments.for_packages([package.id]).get(package.id)
        processes = processes_of(uow, found)
    marketplace = order.channel.is_marketplace
    package_status = package.status if package else None
    lines = {line.id: line for line in order.items}
    pairs = [(lines[item.order_item_id], item) for item in mo.items if item.order_item_id in lines]
    if shipment is not None:
        tracking, cargo = shipment.tracking_number, shipment.cargo_company
    else:
        tracking = package_tracking_number(order, [line for line, _ in pairs])
        cargo = order.cargo_company
    customer = order.customer or {}
    return {
        "reference": mo.reference,
        "merchant_reference": mo.merchant_reference,
        "order_number": order.number,
        "currency": order.currency,
        "created_at": mo.created_at.isoformat() if mo.created_at else None,
        "customer": {key: _text(customer.get(key)) for key in CUSTOMER_FIELDS},
        "shipment": {
            "address": order.shipping_address,
            "package_number": package.number if package else None,
            "package_status": package.status.name if package else None,
            "package_status_code": int(package.status) if package else None,
            "tracking_number": tracking,
            "cargo_company": vars(cargo) if cargo else None,
        },
        "overview": {
            "states": sorted({item.state for item in mo.items}),
            "manual_events": _offered(
                [(i.state, i.process) for i in mo.items], processes, marketplace, package_status
            ),
            "items": [
                _overview_item(line, item, processes, marketplace, package_status)
                for line, item in pairs
            ],
        },
        "totals": mo.totals.as_dict(),
    }


CUSTOMER_FIELDS = ("first_name", "last_name", "email")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _overview_item(
    line: OrderItem, item: MerchantOrderItem, processes: dict[str, Process | None],
    marketplace: bool, package_status: PackageStatus | None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "reference": item.reference,
        "omnitron_item_id": item.omnitron_item_id,
        "sku": line.product.sku,
        "name": line.product.name,
        "quantity": line.quantity,
        "price": line.price,
        "discount_amount": line.discount_amount,
        "tax_rate": rate_text(line.tax_rate),
        "state": item.state,
        "process": item.process,
        "manual_events": _offered(
            [(item.state, item.process)], processes, marketplace, package_status
        ),
    }


def merchant_order_events(
    uow: UnitOfWork, reference: str, merchant_reference: str
) -> set[str] | None:
    """The events the processes of the merchant order's items know, or None when the merchant
    order is missing or another merchant's (the API checks this before publishing)."""
    with uow:
        found = uow.merchant_orders.find(reference, merchant_reference)
        if len(found) != 1:
            return None
        return {
            event
            for process in processes_of(uow, found).values()
            if process is not None
            for event in process.events
        }
