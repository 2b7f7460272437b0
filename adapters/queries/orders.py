"""The order document: `oms show order --json` and `GET /api/v1/orders/{number}/` read it
(spec sections 8 and 11).

A read model, not the write side's aggregates (issue 22): one row per order item with its
order, channel, merchant order item, merchant order, package, package item and shipment beside
it (`ORDER_ROWS`), and the expenses — on PostgreSQL as a JSON array on each row (one statement),
elsewhere a second statement. The
key is found in the same first statement: an order number, else a package number or a merchant
order reference. The merchant processes come from their per-engine cache (merchants.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from adapters.persistence import tables as t
from adapters.persistence.codec import rate_text
from adapters.persistence.merchants import SqlMerchantProcessRepository
from adapters.persistence.prepared_reads import ReadStatement
from adapters.queries.merchant_orders import offered, reserves
from domain.merchant_oms import Process
from domain.model import TOTAL_NAMES, CargoCompany, Expense, is_marketplace_type
from domain.money import rate_of
from domain.statuses import OrderStatus, PackageStatus
from domain.totals import totals_of

_o, _ch, _oi = t.orders, t.channels, t.order_items
_moi, _mo, _p = t.merchant_order_items, t.merchant_orders, t.packages
_pi, _s = t.package_items, t.shipments

CARGO_FIELDS = tuple(CargoCompany.__dataclass_fields__)
KEY: BindParameter[str] = bindparam("key")
CHANNEL: BindParameter[int] = bindparam("channel_id")


def _candidates(by_channel: bool) -> Any:
    """The ids of the orders a key names: those with this number; when there is none, those
    with a package of this number or a merchant order of this reference."""
    numbered = t.orders.alias("numbered")
    packages = t.packages.alias("by_package")
    merchant_orders = t.merchant_orders.alias("by_reference")
    in_channel: list[ColumnElement[bool]] = [numbered.c.channel_id == CHANNEL] if by_channel else []
    no_number = ~exists().where(numbered.c.number == KEY, *in_channel)
    return union_all(
        select(numbered.c.id).where(numbered.c.number == KEY, *in_channel),
        select(packages.c.order_id).where(packages.c.number == KEY, no_number),
        select(merchant_orders.c.order_id).where(merchant_orders.c.reference == KEY, no_number),
    )


def order_ids_for(by_channel: bool, dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE of the orders a key names (`:key`, and `:channel_id` when by channel); the
    order document's and the history's lookup. On PostgreSQL the candidates' ids are one array
    (`orders.id = ANY(CAST((SELECT array_agg(id) …) AS BIGINT[]))`, an InitPlan): with
    `IN (subquery)` the planner joined every order's rows first and hashed the candidates (a
    second per read with 100,000 orders)."""
    candidates = _candidates(by_channel)
    where: list[ColumnElement[bool]]
    if dialect == "postgresql":
        found = candidates.subquery("candidates")
        ids = select(func.array_agg(found.c[0])).scalar_subquery()
        where = [_o.c.id == any_(cast(ids, ARRAY(BigInteger)))]
    else:
        where = [_o.c.id.in_(candidates)]
    if by_channel:
        where.append(_o.c.channel_id == CHANNEL)
    return where


EXPENSE_FIELDS = (
    "type", "name", "amount", "tax_rate", "merchant_reference", "discount_amount", "canceled",
    "refunded",
)  # fmt: skip


def _expenses_json() -> Any:
    """PostgreSQL: the order's expenses as one JSON array on each of its rows, by position (so
    the document needs no second statement there)."""
    e = t.expenses.alias("spent")
    pairs: list[Any] = []
    for name in EXPENSE_FIELDS:
        pairs += [literal_column(f"'{name}'"), e.c[name]]
    listed = func.json_agg(aggregate_order_by(func.json_build_object(*pairs), e.c.position))
    return (
        select(func.coalesce(listed, literal_column("'[]'::json")))
        .where(e.c.order_id == _o.c.id)
        .scalar_subquery()
        .label("expenses")
    )


def _order_rows(by_channel: bool, dialect: str) -> Any:
    spent = [_expenses_json()] if dialect == "postgresql" else []
    return (
        select(
            *spent,
            _o.c.id.label("order_id"),
            _o.c.number,
            _o.c.channel_id,
            _ch.c.name.label("ch_name"),
            _ch.c.channel_type,
            _o.c.status.label("o_status"),
            _o.c.currency,
            _o.c.date_placed,
            _o.c.tracking_number.label("o_tracking"),
            _o.c.cargo_company.label("o_cargo"),
            *(_o.c[name].label(f"o_{name}") for name in TOTAL_NAMES),
            _oi.c.id.label("item_id"),
            _oi.c.omnitron_id,
            _oi.c.sku,
            _oi.c.name,
            _oi.c.merchant_reference.label("i_merchant"),
            _oi.c.product_offer_reference,
            _oi.c.quantity,
            _oi.c.price,
            _oi.c.discount_amount,
            _oi.c.tax_rate,
            _oi.c.tracking_number.label("i_tracking"),
            _oi.c.status.label("i_status"),
            _moi.c.id.label("moi_id"),
            _moi.c.reference.label("moi_reference"),
            _moi.c.state,
            _moi.c.process,
            _mo.c.id.label("mo_id"),
            _mo.c.reference.label("mo_reference"),
            _mo.c.merchant_reference.label("mo_merchant"),
            *(_mo.c[name].label(f"mo_{name}") for name in TOTAL_NAMES),
            _p.c.id.label("package_id"),
            _p.c.number.label("package_number"),
            _p.c.status.label("package_status"),
            _pi.c.id.label("pi_id"),
            _pi.c.package_id.label("pi_package_id"),
            _pi.c.quantity.label("pi_quantity"),
            _pi.c.status.label("pi_status"),
            _s.c.id.label("shipment_id"),
            _s.c.tracking_number.label("s_tracking"),
            _s.c.cargo_company.label("s_cargo"),
            _s.c.client.label("s_client"),
            _s.c.status.label("s_status"),
        )
        .select_from(
            _o.join(_ch, _ch.c.id == _o.c.channel_id)
            .outerjoin(_oi, _oi.c.order_id == _o.c.id)
            .outerjoin(_moi, _moi.c.order_item_id == _oi.c.id)
            .outerjoin(_mo, _mo.c.id == _moi.c.merchant_order_id)
            .outerjoin(_p, _p.c.merchant_order_id == _mo.c.id)
            .outerjoin(_s, _s.c.package_id == _p.c.id)
            .outerjoin(_pi, _pi.c.order_item_id == _oi.c.id)
        )
        .where(*order_ids_for(by_channel, dialect))
        .order_by(_o.c.channel_id, _o.c.id, _oi.c.id)
    )


# built once (a select per call cost its construction and a cache key each request)
ORDER_ROWS = {
    by_channel: ReadStatement(
        _order_rows(by_channel, "sqlite"), _order_rows(by_channel, "postgresql")
    )
    for by_channel in (False, True)
}
# the expenses' own statement, where they are not JSON on the rows (SQLite)
EXPENSE_ROWS = (
    select(t.expenses)
    .where(t.expenses.c.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(t.expenses.c.order_id, t.expenses.c.position)
)


def find_orders(engine: Engine, key: str, channel_id: int | None) -> list[dict[str, Any]]:
    """The documents of the orders the key names (one per channel unless a channel is given),
    by channel id. One statement on PostgreSQL (the expenses as JSON on each row), two
    elsewhere; the connection is returned before the caller serialises."""
    statement, params = order_values(key, channel_id)
    with engine.connect() as connection:
        rows = statement.rows(connection, params)
        if not rows:
            return []
        by_order = by_order_of(rows)
        spent: dict[int, list[Any]] = {}
        if connection.dialect.name == "postgresql":  # on each row, as JSON
            spent = expenses_on_rows(by_order)
        else:
            for expense in connection.execute(EXPENSE_ROWS, {"order_ids": list(by_order)}):
                spent.setdefault(expense.order_id, []).append(expense)
        processes = processes_by_name(connection, process_names(rows))
    return [document(found, spent.get(i, []), processes) for i, found in by_order.items()]


def order_values(key: str, channel_id: int | None) -> tuple[ReadStatement, dict[str, Any]]:
    """The statement that reads the orders a key names, and its values."""
    params: dict[str, Any] = {"key": key}
    if channel_id is not None:
        params["channel_id"] = channel_id
    return ORDER_ROWS[channel_id is not None], params


def by_order_of(rows: Sequence[Any]) -> dict[int, list[Any]]:
    """ORDER_ROWS's rows by order id, in the order read."""
    by_order: dict[int, list[Any]] = {}
    for row in rows:
        by_order.setdefault(row.order_id, []).append(row)
    return by_order


def expenses_on_rows(by_order: dict[int, list[Any]]) -> dict[int, list[Any]]:
    """PostgreSQL's ORDER_ROWS carry each order's expenses as JSON on every row."""
    return {i: [SimpleNamespace(**e) for e in rows[0].expenses] for i, rows in by_order.items()}


def process_names(rows: Sequence[Any]) -> set[str]:
    return {row.process for row in rows if row.process is not None}


def processes_by_name(connection: Connection, names: Iterable[str]) -> dict[str, Process | None]:
    """The merchant processes by name (each read once per engine: the repository's cache)."""
    repository = SqlMerchantProcessRepository(connection)
    return {name: repository.get(name) for name in sorted(names)}


def cargo(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored cargo company as the domain's CargoCompany shows it (its fields, in order)."""
    return {name: stored[name] for name in CARGO_FIELDS} if stored else None


def _status(code: int) -> dict[str, Any]:
    return {"status": OrderStatus(code).name, "status_code": int(code)}


def _package_status(code: int) -> dict[str, Any]:
    return {"status": PackageStatus(code).name, "status_code": int(code)}


def _totals(row: Any, prefix: str) -> dict[str, int]:
    return {name: getattr(row, prefix + name) for name in TOTAL_NAMES}


def _expense(row: Any) -> dict[str, Any]:
    return {
        "type": row.type,
        "name": row.name,
        "amount": row.amount,
        "tax_rate": rate_text(rate_of(row.tax_rate)),
        "merchant_reference": row.merchant_reference,
        "canceled": bool(row.canceled),
        "refunded": bool(row.refunded),
    }


def _marketplace_totals(expenses: Sequence[Any]) -> dict[str, int]:
    """The totals of the expenses that name no merchant (they stay with the marketplace)."""
    own = [
        Expense(
            type=e.type,
            name=e.name,
            amount=e.amount,
            tax_rate=rate_of(e.tax_rate),
            merchant_reference=None,
            discount_amount=e.discount_amount,
            canceled=bool(e.canceled),
            refunded=bool(e.refunded),
        )
        for e in expenses
        if e.merchant_reference is None
    ]
    return totals_of([], own).as_dict()


def document(
    rows: list[Any], expenses: Sequence[Any], processes: dict[str, Process | None]
) -> dict[str, Any]:
    """One order's document from its item rows (order columns repeated on each) and its
    expense rows."""
    head = rows[0]
    marketplace = is_marketplace_type(head.channel_type)
    items = [row for row in rows if row.item_id is not None]
    merchant_orders: dict[int, Any] = {}
    mo_items: dict[int, list[Any]] = {}
    package_items: dict[int, list[Any]] = {}
    for row in items:
        if row.mo_id is not None:
            merchant_orders.setdefault(row.mo_id, row)
            mo_items.setdefault(row.mo_id, []).append(row)
        if row.pi_id is not None:
            package_items.setdefault(row.pi_package_id, []).append(row)
    mos = [merchant_orders[i] for i in sorted(merchant_orders)]
    return {
        "id": head.order_id,
        "number": head.number,
        "channel": {"id": head.channel_id, "name": head.ch_name, "channel_type": head.channel_type},
        **_status(head.o_status),
        "currency": head.currency,
        "date_placed": head.date_placed.isoformat(),
        "tracking_number": head.o_tracking,
        "cargo_company": cargo(head.o_cargo),
        "items": [_item(row) for row in items],
        "expenses": [_expense(e) for e in expenses],
        "totals": _totals(head, "o_"),
        "marketplace_expenses": _marketplace_totals(expenses),
        "merchant_orders": [
            _merchant_order(mo, sorted(mo_items[mo.mo_id], key=_by_moi), processes, marketplace)
            for mo in mos
        ],
        "packages": [
            _package(mo, sorted(package_items.get(mo.package_id, []), key=_by_pi))
            for mo in mos
            if mo.package_id is not None
        ],
    }


def _by_moi(row: Any) -> int:
    return int(row.moi_id)


def _by_pi(row: Any) -> int:
    return int(row.pi_id)


def _item(row: Any) -> dict[str, Any]:
    return {
        "id": row.omnitron_id,
        "sku": row.sku,
        "name": row.name,
        "merchant_reference": row.i_merchant,
        "product_offer_reference": row.product_offer_reference,
        "quantity": row.quantity,
        "price": row.price,
        "discount_amount": row.discount_amount,
        "tax_rate": rate_text(rate_of(row.tax_rate)),
        "tracking_number": row.i_tracking,
        **_status(row.i_status),
    }


def _merchant_order(
    mo: Any, items: list[Any], processes: dict[str, Process | None], marketplace: bool
) -> dict[str, Any]:
    """As merchant_orders.merchant_order_view: reference, totals, items with their states and
    processes, the sorted set of states and the manual events they can take now (spec 9.1)."""
    return {
        "reference": mo.mo_reference,
        "merchant_reference": mo.mo_merchant,
        "totals": _totals(mo, "mo_"),
        "package_number": mo.package_number,
        "merchant_order_items": [
            {
                "reference": item.moi_reference,
                "omnitron_item_id": item.omnitron_id,
                "state": item.state,
                "process": item.process,
                "reserves": reserves(processes.get(item.process), item.state),
            }
            for item in items
        ],
        "states": sorted({item.state for item in items}),
        "manual_events": offered(
            [(item.state, item.process) for item in items],
            processes,
            marketplace,
            mo.package_status,
        ),
    }


def _package(mo: Any, items: list[Any]) -> dict[str, Any]:
    shipment = None
    if mo.shipment_id is not None:
        shipment = {
            "id": mo.shipment_id,
            "tracking_number": mo.s_tracking,
            "cargo_company": cargo(mo.s_cargo),
            "client": mo.s_client,
            **_package_status(mo.s_status),
        }
    return {
        "id": mo.package_id,
        "number": mo.package_number,
        "merchant_order": mo.mo_reference,
        **_package_status(mo.package_status),
        "items": [
            {
                "order_item_id": i.omnitron_id,
                "quantity": i.pi_quantity,
                **_package_status(i.pi_status),
            }
            for i in items
        ],
        "shipment": shipment,
    }


def identity_holds(view: dict[str, Any]) -> bool:
    """order.T = sum of merchant_order.T + T of the marketplace's own expenses, for every T."""
    return all(
        view["totals"][name]
        == sum(mo["totals"][name] for mo in view["merchant_orders"])
        + view["marketplace_expenses"][name]
        for name in view["totals"]
    )
