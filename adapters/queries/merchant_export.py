"""The merchant order export's reads (spec 10.3, Spryker's MerchantSalesOrderDataExport): three
row streams, each ordered by merchant, read in batches through a server-side cursor (PostgreSQL)
so memory stays flat however many rows there are. Money in integer minor units. The CLI writes
them to files; the HTTP API may serve the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Select, select

from adapters.persistence import tables as t
from domain.statuses import OrderStatus, PackageStatus
from domain.totals import tax_of

BATCH = 500
ORDER_COLUMNS = (
    "merchant_order_reference", "marketplace_order_reference", "merchant_reference",
    "channel_id", "merchant_order_created_at", "currency_iso_code", "email", "first_name",
    "last_name", "merchant_order_totals_subtotal", "merchant_order_totals_order_expense_total",
    "merchant_order_totals_discount_total", "merchant_order_totals_tax_total",
    "merchant_order_totals_canceled_total", "merchant_order_totals_refund_total",
    "merchant_order_totals_grand_total", "merchant_order_item_states",
)  # fmt: skip
ITEM_COLUMNS = (
    "merchant_order_reference", "marketplace_order_reference", "merchant_order_item_reference",
    "omnitron_item_id", "product_sku", "product_name", "product_offer_reference", "quantity",
    "price", "discount_amount_aggregation", "price_to_pay_aggregation", "tax_rate",
    "tax_amount", "canceled_amount", "refunded_amount", "merchant_order_item_state",
    "merchant_order_item_process", "order_item_status", "package_number", "package_status",
    "tracking_number",
)  # fmt: skip
EXPENSE_COLUMNS = (
    "merchant_order_reference", "marketplace_order_reference", "type", "name", "price",
    "tax_rate", "tax_amount", "canceled_amount", "refunded_amount",
)  # fmt: skip

Row = dict[str, Any]


@dataclass(frozen=True)
class ExportFilter:
    merchants: tuple[str, ...] = ()  # none: every merchant
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive

    def apply(self, query: Select[Any]) -> Select[Any]:
        mo = t.merchant_orders
        if self.merchants:
            query = query.where(mo.c.merchant_reference.in_(self.merchants))
        if self.created_from is not None:
            query = query.where(mo.c.created_at >= self.created_from)
        if self.created_to is not None:
            query = query.where(mo.c.created_at < self.created_to)
        return query


def exported_merchants(connection: Connection, where: ExportFilter) -> list[str]:
    """The merchants with at least one merchant order the filter selects, in the rows' order."""
    mo = t.merchant_orders
    query = where.apply(select(mo.c.merchant_reference).distinct())
    return sorted(connection.execute(query).scalars())


def unknown_merchants(connection: Connection, references: tuple[str, ...]) -> list[str]:
    """The references that name no merchant (none stored, no merchant order), in given order."""
    if not references:
        return []
    m, mo = t.merchants, t.merchant_orders
    known = set(
        connection.execute(select(m.c.reference).where(m.c.reference.in_(references))).scalars()
    )
    rest = [r for r in references if r not in known]
    if rest:
        query = select(mo.c.merchant_reference).where(mo.c.merchant_reference.in_(rest)).distinct()
        known.update(connection.execute(query).scalars())
    return [r for r in references if r not in known]


def _stream(connection: Connection, query: Select[Any]) -> Iterator[Any]:
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    for partition in result.partitions():
        yield from partition


def merchant_order_rows(connection: Connection, where: ExportFilter) -> Iterator[Row]:
    """One row per merchant order with its items' states (the rows come joined with the items
    and ordered, so a merchant order's rows are consecutive)."""
    mo, o, items = t.merchant_orders, t.orders, t.merchant_order_items
    query = where.apply(
        select(mo, o.c.number, o.c.currency, o.c.customer, items.c.state)
        .join(o, o.c.id == mo.c.order_id)
        .outerjoin(items, items.c.merchant_order_id == mo.c.id)
        .order_by(mo.c.merchant_reference, mo.c.id)
    )
    current: Row | None = None
    states: set[str] = set()
    current_id = None
    for r in _stream(connection, query):
        if r.id != current_id:
            if current is not None:
                yield current | {"merchant_order_item_states": ",".join(sorted(states))}
            current_id, states = r.id, set()
            current = _order_row(r)
        if r.state is not None:
            states.add(r.state)
    if current is not None:
        yield current | {"merchant_order_item_states": ",".join(sorted(states))}


def _order_row(r: Any) -> Row:
    customer = r.customer or {}
    return {
        "merchant_order_reference": r.reference,
        "marketplace_order_reference": r.number,
        "merchant_reference": r.merchant_reference,
        "channel_id": r.channel_id,
        "merchant_order_created_at": r.created_at.isoformat(),
        "currency_iso_code": r.currency.upper(),
        "email": customer.get("email", ""),
        "first_name": customer.get("first_name", ""),
        "last_name": customer.get("last_name", ""),
        "merchant_order_totals_subtotal": r.subtotal,
        "merchant_order_totals_order_expense_total": r.expense_total,
        "merchant_order_totals_discount_total": r.discount_total,
        "merchant_order_totals_tax_total": r.tax_total,
        "merchant_order_totals_canceled_total": r.canceled_total,
        "merchant_order_totals_refund_total": r.refund_total,
        "merchant_order_totals_grand_total": r.grand_total,
    }


def _amounts(price_to_pay: int, rate: str, canceled: bool, refunded: bool) -> Row:
    live = not (canceled or refunded)
    return {
        "tax_amount": tax_of(price_to_pay, Fraction(rate)) if live else 0,
        "canceled_amount": price_to_pay if canceled else 0,
        "refunded_amount": price_to_pay if refunded else 0,
    }


def merchant_order_item_rows(connection: Connection, where: ExportFilter) -> Iterator[Row]:
    mo, o, items = t.merchant_orders, t.orders, t.merchant_order_items
    oi, p, pi, s = t.order_items, t.packages, t.package_items, t.shipments
    query = where.apply(
        select(
            mo.c.reference.label("mo_reference"),
            mo.c.merchant_reference,
            o.c.number,
            items.c.reference,
            items.c.state,
            items.c.process,
            oi.c.omnitron_id,
            oi.c.sku,
            oi.c.name,
            oi.c.product_offer_reference,
            oi.c.quantity,
            oi.c.price,
            oi.c.discount_amount,
            oi.c.tax_rate,
            oi.c.status,
            oi.c.tracking_number,
            p.c.number.label("package_number"),
            p.c.status.label("package_status"),
            s.c.tracking_number.label("shipment_tracking"),
        )
        .join(o, o.c.id == mo.c.order_id)
        .join(items, items.c.merchant_order_id == mo.c.id)
        .join(oi, oi.c.id == items.c.order_item_id)
        .outerjoin(pi, pi.c.order_item_id == oi.c.id)
        .outerjoin(p, p.c.id == pi.c.package_id)
        .outerjoin(s, s.c.package_id == p.c.id)
        .order_by(mo.c.merchant_reference, mo.c.id, items.c.id)
    )
    for r in _stream(connection, query):
        status = OrderStatus(r.status)
        to_pay = r.price * r.quantity - r.discount_amount
        yield {
            "merchant_reference": r.merchant_reference,
            "merchant_order_reference": r.mo_reference,
            "marketplace_order_reference": r.number,
            "merchant_order_item_reference": r.reference,
            "omnitron_item_id": r.omnitron_id,
            "product_sku": r.sku,
            "product_name": r.name,
            "product_offer_reference": r.product_offer_reference or "",
            "quantity": r.quantity,
            "price": r.price,
            "discount_amount_aggregation": r.discount_amount,
            "price_to_pay_aggregation": to_pay,
            "tax_rate": r.tax_rate,
            **_amounts(
                to_pay, r.tax_rate, status is OrderStatus.cancelled, status is OrderStatus.refunded
            ),
            "merchant_order_item_state": r.state,
            "merchant_order_item_process": r.process,
            "order_item_status": int(status),
            "package_number": r.package_number or "",
            "package_status": PackageStatus(r.package_status).name if r.package_status else "",
            "tracking_number": r.shipment_tracking or r.tracking_number or "",
        }


def merchant_order_expense_rows(connection: Connection, where: ExportFilter) -> Iterator[Row]:
    """The expenses of each merchant order: its merchant's own (spec 4)."""
    mo, o, e = t.merchant_orders, t.orders, t.expenses
    query = where.apply(
        select(mo.c.reference.label("mo_reference"), mo.c.merchant_reference, o.c.number, e)
        .join(o, o.c.id == mo.c.order_id)
        .join(
            e, (e.c.order_id == mo.c.order_id) & (e.c.merchant_reference == mo.c.merchant_reference)
        )
        .order_by(mo.c.merchant_reference, mo.c.id, e.c.position)
    )
    for r in _stream(connection, query):
        to_pay = r.amount - r.discount_amount
        yield {
            "merchant_reference": r.merchant_reference,
            "merchant_order_reference": r.mo_reference,
            "marketplace_order_reference": r.number,
            "type": r.type,
            "name": r.name,
            "price": r.amount,
            "tax_rate": r.tax_rate,
            **_amounts(to_pay, r.tax_rate, r.canceled, r.refunded),
        }
