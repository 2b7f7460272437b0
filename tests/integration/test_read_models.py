"""The read models (issue 22) answer exactly what the write side's aggregates answered: the
order document and the merchant order page, built here as the code before issue 22 built them
(`SqlOrderRepository`, `SqlMerchantOrderRepository`, shipments, processes, loaded piece by
piece), compared with `find_orders` and `merchant_order_detail` on PostgreSQL and SQLite, for an
order packed, reported, shipped by the poll, with a cancelled item and a refunded one."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence.codec import rate_text
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.merchant_orders import (
    merchant_order_view,
    offered,
    processes_of,
)
from adapters.queries.merchant_reads import merchant_order_detail
from adapters.queries.orders import find_orders
from domain.merchant_events import MerchantEvent, trigger_merchant_event
from domain.merchant_oms import Process, Source
from domain.model import Expense, MerchantOrder, MerchantOrderItem, Order, OrderItem, Package
from domain.packaging import Shipment, package_tracking_number
from domain.ports import UnitOfWork
from domain.splitting import marketplace_expenses
from domain.statuses import PackageStatus
from domain.totals import totals_of
from tests.integration.test_history import flow
from tests.integration.test_polling import omnitron

__all__ = ["omnitron"]  # the fixture


# -- as adapters/queries/orders.py built the document before issue 22 (commit fa8911c) ---------


def _item(item: OrderItem) -> dict[str, Any]:
    return {
        "id": item.omnitron_id,
        "sku": item.product.sku,
        "name": item.product.name,
        "merchant_reference": item.merchant_reference,
        "product_offer_reference": item.product_offer_reference,
        "quantity": item.quantity,
        "price": item.price,
        "discount_amount": item.discount_amount,
        "tax_rate": rate_text(item.tax_rate),
        "tracking_number": item.tracking_number,
        "status": item.status.name,
        "status_code": int(item.status),
    }


def _expense(expense: Expense) -> dict[str, Any]:
    return {
        "type": expense.type,
        "name": expense.name,
        "amount": expense.amount,
        "tax_rate": rate_text(expense.tax_rate),
        "merchant_reference": expense.merchant_reference,
        "canceled": expense.canceled,
        "refunded": expense.refunded,
    }


def _shipment(shipment: Shipment | None) -> dict[str, Any] | None:
    if shipment is None:
        return None
    cargo = shipment.cargo_company
    return {
        "id": shipment.id,
        "tracking_number": shipment.tracking_number,
        "cargo_company": vars(cargo) if cargo else None,
        "client": shipment.client,
        "status": shipment.status.name,
        "status_code": int(shipment.status),
    }


def _package(mo: MerchantOrder, package: Package, shipment: Shipment | None) -> dict[str, Any]:
    return {
        "id": package.id,
        "number": package.number,
        "merchant_order": mo.reference,
        "status": package.status.name,
        "status_code": int(package.status),
        "items": [
            {
                "order_item_id": i.omnitron_item_id,
                "quantity": i.quantity,
                "status": i.status.name,
                "status_code": int(i.status),
            }
            for i in package.items
        ],
        "shipment": _shipment(shipment),
    }


def order_view(
    order: Order,
    merchant_orders: list[MerchantOrder],
    shipments: dict[int, Shipment],
    processes: dict[str, Process | None] | None = None,
) -> dict[str, Any]:
    channel = order.channel
    return {
        "id": order.id,
        "number": order.number,
        "channel": {"id": channel.id, "name": channel.name, "channel_type": channel.channel_type},
        "status": order.status.name,
        "status_code": int(order.status),
        "currency": order.currency,
        "date_placed": order.date_placed.isoformat(),
        "tracking_number": order.tracking_number,
        "cargo_company": vars(order.cargo_company) if order.cargo_company else None,
        "items": [_item(i) for i in order.items],
        "expenses": [_expense(e) for e in order.expenses],
        "totals": order.totals.as_dict(),
        "marketplace_expenses": totals_of([], marketplace_expenses(order)).as_dict(),
        "merchant_orders": [
            merchant_order_view(mo, processes or {}, channel.is_marketplace)
            for mo in merchant_orders
        ],
        "packages": [
            _package(mo, mo.package, shipments.get(mo.package.id or 0))
            for mo in merchant_orders
            if mo.package is not None
        ],
    }


def old_find_orders(uow: UnitOfWork, number: str) -> list[dict[str, Any]]:
    views = []
    with uow:
        for order in uow.orders.find(number, None) or uow.orders.find_by_reference(number, None):
            merchant_orders = uow.merchant_orders.for_order(order.id or 0)
            ids = [mo.package.id for mo in merchant_orders if mo.package and mo.package.id]
            shipments = uow.shipments.for_packages(ids)
            processes = processes_of(uow, merchant_orders)
            views.append(order_view(order, merchant_orders, shipments, processes))
    return views


# -- as adapters/queries/merchant_orders.py built the merchant order page (commit fa8911c) ------


def old_merchant_order_detail(
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
            "manual_events": offered(
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
        "manual_events": offered(
            [(item.state, item.process)], processes, marketplace, package_status
        ),
    }


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
        "manual_events": offered(
            [(item.state, item.process)], processes, marketplace, package_status
        ),
    }


def test_the_read_models_answer_what_the_aggregates_answered(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    f = flow(engine, omnitron)  # packed, reported (one failure), the first package shipped
    number = f["number"]
    (before,) = old_find_orders(SqlUnitOfWork(engine), number)
    # an item of the second (packed, not shipped) merchant order cancelled, then the order read
    # again; a refund on the shipped one
    by_mo = {mo["reference"]: mo for mo in before["merchant_orders"]}
    second = by_mo[f["merchant_order"]]
    first = next(mo for mo in before["merchant_orders"] if mo is not second)
    for mo, event in ((second, "cancel"), (first, "refund")):
        item = mo["merchant_order_items"][0]["reference"]
        trigger_merchant_event(
            MerchantEvent(mo["merchant_reference"], mo["reference"], event, (item,), Source.api),
            SqlUnitOfWork(engine),
            str(uuid.uuid4()),
        )
    shapes = 0
    for key in (number, f["first"], f["merchant_order"]):
        old = old_find_orders(SqlUnitOfWork(engine), key)
        assert find_orders(engine, key, None) == old
        assert old and old[0]["packages"][0]["shipment"] is not None
        shapes += 1
    for mo in before["merchant_orders"]:
        reference, merchant = mo["reference"], mo["merchant_reference"]
        old_detail = old_merchant_order_detail(SqlUnitOfWork(engine), reference, merchant)
        assert old_detail is not None
        assert merchant_order_detail(engine, reference, merchant) == old_detail
        assert merchant_order_detail(engine, reference, "MER-NOBODY") is None
    assert shapes == 3
    assert find_orders(engine, f"{number}-nothing", None) == []
