"""Splitting an order into one merchant order, with one package, per merchant (spec 4-5)."""

from __future__ import annotations

from datetime import datetime

from domain.errors import InvalidInput
from domain.model import (
    Expense,
    MerchantOrder,
    Order,
    Package,
    PackageItem,
    merchant_order_reference,
)
from domain.totals import totals_of


def split(order: Order, now: datetime) -> list[MerchantOrder]:
    if order.id is None:
        raise ValueError("only a stored order can be split")
    merchants = order.merchant_references()
    strays = {
        e.merchant_reference
        for e in order.expenses
        if e.merchant_reference is not None and e.merchant_reference not in merchants
    }
    if strays:
        raise InvalidInput(f"expenses name merchants with no item in the order: {sorted(strays)}")
    merchant_orders = []
    for merchant in merchants:
        items = [item for item in order.items if item.merchant_reference == merchant]
        expenses = [e for e in order.expenses if e.merchant_reference == merchant]
        reference = merchant_order_reference(order.number, merchant)
        package = Package(
            number=reference,
            channel_id=order.channel.id,
            order_id=order.id,
            created_at=now,
            items=[
                PackageItem(
                    order_item_id=_stored_id(i.id),
                    omnitron_item_id=i.omnitron_id,
                    quantity=i.quantity,
                )
                for i in items
            ],
        )
        merchant_orders.append(
            MerchantOrder(
                reference=reference,
                merchant_reference=merchant,
                channel_id=order.channel.id,
                order_id=order.id,
                totals=totals_of(items, expenses),
                package=package,
            )
        )
    return merchant_orders


def marketplace_expenses(order: Order) -> list[Expense]:
    """Expenses that name no merchant: they stay with the marketplace."""
    return [e for e in order.expenses if e.merchant_reference is None]


def _stored_id(item_id: int | None) -> int:
    if item_id is None:
        raise ValueError("order items must be stored before the order is split")
    return item_id
