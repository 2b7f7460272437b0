"""Splitting an order into one merchant order per merchant (spec 4, 5, 9.1): merchant order
items in their merchant's process, totals, and one waiting package of the live items."""

from __future__ import annotations

from datetime import datetime

from domain.errors import InvalidInput
from domain.merchant_oms import (
    INITIAL_STATE,
    INITIATE,
    MerchantTransitionRecord,
    Outcome,
    Source,
    initial_state,
)
from domain.model import (
    Expense,
    MerchantOrder,
    MerchantOrderItem,
    Order,
    OrderItem,
    Package,
    PackageItem,
    merchant_order_item_reference,
    merchant_order_reference,
)
from domain.totals import totals_of


def split(
    order: Order, now: datetime, processes: dict[str, str] | None = None
) -> list[MerchantOrder]:
    """`processes` gives each merchant's process name (the merchant's at this moment)."""
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
        live = [i for i in items if not (i.canceled or i.refunded)]
        package = None
        if live:  # items that arrived cancelled or refunded get no package item
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
                    for i in live
                ],
            )
        process = (processes or {}).get(merchant, "")
        merchant_orders.append(
            MerchantOrder(
                reference=reference,
                merchant_reference=merchant,
                channel_id=order.channel.id,
                order_id=order.id,
                totals=totals_of(items, expenses),
                package=package,
                items=[_merchant_item(reference, i, process) for i in items],
                created_at=now,
            )
        )
    return merchant_orders


def _merchant_item(reference: str, item: OrderItem, process: str) -> MerchantOrderItem:
    return MerchantOrderItem(
        reference=merchant_order_item_reference(reference, item.omnitron_id),
        order_item_id=_stored_id(item.id),
        omnitron_item_id=item.omnitron_id,
        state=initial_state(item.canceled, item.refunded),
        process=process,
        quantity=item.quantity,
        product_offer_reference=item.product_offer_reference,
        sku=item.product.sku,
    )


def start_records(
    merchant_orders: list[MerchantOrder], order_id: int, now: datetime
) -> list[MerchantTransitionRecord]:
    """The log of each item's start: created, then `initiate` to new (or the cancelled or
    refunded state an item arrived in)."""
    records = []
    for mo in merchant_orders:
        for item in mo.items:
            if item.state == "new":
                steps = [
                    ("create", None, INITIAL_STATE, f"created in {item.process}"),
                    (INITIATE, INITIAL_STATE, item.state, "automatic"),
                ]
            else:
                steps = [("create", None, item.state, f"arrived {item.state} ({item.process})")]
            records += [
                MerchantTransitionRecord(
                    item.reference,
                    mo.reference,
                    event,
                    Source.marketplace,
                    Outcome.applied,
                    before,
                    after,
                    reason,
                    None,
                    order_id,
                    now,
                )
                for event, before, after, reason in steps
            ]
    return records


def marketplace_expenses(order: Order) -> list[Expense]:
    """Expenses that name no merchant: they stay with the marketplace."""
    return [e for e in order.expenses if e.merchant_reference is None]


def _stored_id(item_id: int | None) -> int:
    if item_id is None:
        raise ValueError("order items must be stored before the order is split")
    return item_id
