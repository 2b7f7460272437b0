"""The order document: `oms show order --json` and `GET /api/v1/orders/{number}/` read it
(spec sections 8 and 11)."""

from __future__ import annotations

from typing import Any

from adapters.persistence.codec import rate_text
from adapters.queries.merchant_orders import merchant_order_view, processes_of
from domain.merchant_oms import Process
from domain.model import Expense, MerchantOrder, Order, OrderItem, Package
from domain.packaging import Shipment
from domain.ports import UnitOfWork
from domain.splitting import marketplace_expenses
from domain.totals import totals_of


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


def find_orders(uow: UnitOfWork, number: str, channel_id: int | None) -> list[dict[str, Any]]:
    """The orders with this number; when there is none, the orders with a package of this
    number or a merchant order of this reference (an operator often holds one of those)."""
    views = []
    with uow:
        for order in lookup(uow, number, channel_id):
            merchant_orders = uow.merchant_orders.for_order(order.id or 0)
            ids = [mo.package.id for mo in merchant_orders if mo.package and mo.package.id]
            shipments = uow.shipments.for_packages(ids)
            processes = processes_of(uow, merchant_orders)
            views.append(order_view(order, merchant_orders, shipments, processes))
    return views


def lookup(uow: UnitOfWork, key: str, channel_id: int | None) -> list[Order]:
    """The shared order lookup (`oms show order`, the API): an order number first, then a
    package number or merchant order reference. Call inside the unit of work."""
    return uow.orders.find(key, channel_id) or uow.orders.find_by_reference(key, channel_id)


def identity_holds(view: dict[str, Any]) -> bool:
    """order.T = sum of merchant_order.T + T of the marketplace's own expenses, for every T."""
    return all(
        view["totals"][name]
        == sum(mo["totals"][name] for mo in view["merchant_orders"])
        + view["marketplace_expenses"][name]
        for name in view["totals"]
    )
