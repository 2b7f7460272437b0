"""The merchant portal's reads (spec 11), shaped for reading (issue 22): the merchant order page
in one statement (one row per merchant order item, its merchant order, order, channel, package
and shipment beside it), the merchant order list in two (the count, then the page's merchant
orders each with its items' states), and the events a merchant order's processes know in one.
Never the write side's aggregates; the processes come from their per-engine cache
(merchants.py). Shared by the API and the web pages."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Engine,
    bindparam,
    exists,
    func,
    literal_column,
    select,
)

from adapters.persistence import tables as t
from adapters.persistence.codec import rate_text
from adapters.persistence.prepared_reads import ReadStatement
from adapters.queries.merchant_orders import CUSTOMER_FIELDS, offered
from adapters.queries.orders import cargo, processes_by_name
from domain.merchant_oms import Process
from domain.model import TOTAL_NAMES, is_marketplace_type
from domain.money import rate_of
from domain.packaging import tracking_number_of
from domain.statuses import PackageStatus

_mo, _moi, _o, _oi = t.merchant_orders, t.merchant_order_items, t.orders, t.order_items
_ch, _p, _s = t.channels, t.packages, t.shipments

REFERENCE: BindParameter[str] = bindparam("reference")
MERCHANT: BindParameter[str] = bindparam("merchant")
MINE = (_mo.c.reference == REFERENCE, _mo.c.merchant_reference == MERCHANT)

DETAIL_ROWS = ReadStatement(
    select(
        _mo.c.id.label("mo_id"),
        _mo.c.reference,
        _mo.c.merchant_reference,
        _mo.c.created_at,
        *(_mo.c[name] for name in TOTAL_NAMES),
        _o.c.number.label("order_number"),
        _o.c.currency,
        _o.c.customer,
        _o.c.shipping_address,
        _o.c.tracking_number.label("o_tracking"),
        _o.c.cargo_company.label("o_cargo"),
        _ch.c.channel_type,
        _p.c.number.label("package_number"),
        _p.c.status.label("package_status"),
        _s.c.id.label("shipment_id"),
        _s.c.tracking_number.label("s_tracking"),
        _s.c.cargo_company.label("s_cargo"),
        _moi.c.reference.label("item_reference"),
        _moi.c.state,
        _moi.c.process,
        _oi.c.omnitron_id,
        _oi.c.sku,
        _oi.c.name,
        _oi.c.quantity,
        _oi.c.price,
        _oi.c.discount_amount,
        _oi.c.tax_rate,
        _oi.c.tracking_number.label("i_tracking"),
    )
    .select_from(
        _mo.join(_o, _o.c.id == _mo.c.order_id)
        .join(_ch, _ch.c.id == _o.c.channel_id)
        .join(_moi, _moi.c.merchant_order_id == _mo.c.id)
        .join(_oi, _oi.c.id == _moi.c.order_item_id)
        .outerjoin(_p, _p.c.merchant_order_id == _mo.c.id)
        .outerjoin(_s, _s.c.package_id == _p.c.id)
    )
    .where(*MINE)
    .order_by(_mo.c.id, _moi.c.id)
)

KNOWN_PROCESSES = ReadStatement(
    select(_mo.c.id, _moi.c.process)
    .select_from(_mo.outerjoin(_moi, _moi.c.merchant_order_id == _mo.c.id))
    .where(*MINE)
)


def merchant_order_detail(
    engine: Engine, reference: str, merchant_reference: str
) -> dict[str, Any] | None:
    """Seed 000's merchant order page: `customer`, `shipment`, `overview` (this merchant's items
    with their states and manual events) and the merchant order's own `totals` — nothing of
    other merchants, no marketplace-order totals. None when missing or another merchant's (the
    same None: ownership is never revealed), or when the reference is in several channels."""
    with engine.connect() as connection:
        rows = DETAIL_ROWS.rows(
            connection, {"reference": reference, "merchant": merchant_reference}
        )
        if not one_merchant_order(rows):
            return None
        processes = processes_by_name(connection, {row.process for row in rows})
    return detail_document(rows, processes)


def one_merchant_order(rows: Sequence[Any]) -> bool:
    """DETAIL_ROWS found the merchant order, in one channel only."""
    return bool(rows) and len({row.mo_id for row in rows}) == 1


def detail_document(rows: Sequence[Any], processes: dict[str, Process | None]) -> dict[str, Any]:
    """The merchant order's document from DETAIL_ROWS's rows."""
    head = rows[0]
    marketplace = is_marketplace_type(head.channel_type)
    status = None if head.package_status is None else PackageStatus(head.package_status)
    if head.shipment_id is not None:
        tracking, cargo_company = head.s_tracking, cargo(head.s_cargo)
    else:
        tracking = tracking_number_of(head.o_tracking, [row.i_tracking for row in rows])
        cargo_company = cargo(head.o_cargo)
    customer = head.customer or {}
    return {
        "reference": head.reference,
        "merchant_reference": head.merchant_reference,
        "order_number": head.order_number,
        "currency": head.currency,
        "created_at": head.created_at.isoformat() if head.created_at else None,
        "customer": {key: _text(customer.get(key)) for key in CUSTOMER_FIELDS},
        "shipment": {
            "address": head.shipping_address,
            "package_number": head.package_number,
            "package_status": status.name if status is not None else None,
            "package_status_code": int(status) if status is not None else None,
            "tracking_number": tracking,
            "cargo_company": cargo_company,
        },
        "overview": {
            "states": sorted({row.state for row in rows}),
            "manual_events": offered(
                [(row.state, row.process) for row in rows], processes, marketplace, status
            ),
            "items": [_overview_item(row, processes, marketplace, status) for row in rows],
        },
        "totals": {name: getattr(head, name) for name in TOTAL_NAMES},
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _overview_item(
    row: Any, processes: dict[str, Process | None], marketplace: bool,
    status: PackageStatus | None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "reference": row.item_reference,
        "omnitron_item_id": row.omnitron_id,
        "sku": row.sku,
        "name": row.name,
        "quantity": row.quantity,
        "price": row.price,
        "discount_amount": row.discount_amount,
        "tax_rate": rate_text(rate_of(row.tax_rate)),
        "state": row.state,
        "process": row.process,
        "manual_events": offered([(row.state, row.process)], processes, marketplace, status),
    }


def merchant_order_events(
    engine: Engine, reference: str, merchant_reference: str
) -> set[str] | None:
    """The events the processes of the merchant order's items know, or None when the merchant
    order is missing or another merchant's (the API checks this before publishing). One
    statement."""
    with engine.connect() as connection:
        rows = KNOWN_PROCESSES.rows(
            connection, {"reference": reference, "merchant": merchant_reference}
        )
        if len({row.id for row in rows}) != 1:
            return None
        processes = processes_by_name(connection, {row.process for row in rows if row.process})
    return {
        event for process in processes.values() if process is not None for event in process.events
    }


# -- the merchant order list --------------------------------------------------------------------


class RecentCounts:
    """A list's count, kept for at most `seconds` when it is `large`: counting a merchant's
    100,000 merchant orders reads 100,000 index entries (5 ms and more of PostgreSQL) at every
    page, while the page itself reads 20. A count under `large` is always exact (cheap, and what
    a merchant who just acted expects to see); a larger one may be a second old — a person cannot
    tell 100,000 from 100,001, and the page's rows themselves are always read fresh (docs/api.md).
    The same bound as the key cache's."""

    def __init__(self, *, large: int = 1000, seconds: float = 1.0, size: int = 4096) -> None:
        self.large, self.seconds, self.size = large, seconds, size
        self._kept: dict[Any, tuple[int, float]] = {}

    def get(self, key: Any) -> int | None:
        kept = self._kept.get(key)
        if kept is None or kept[1] < time.monotonic():
            return None
        return kept[0]

    def put(self, key: Any, count: int) -> None:
        if count < self.large:
            return
        if len(self._kept) >= self.size:
            self._kept.clear()  # many merchants and filters at once: start again, never grow
        self._kept[key] = (count, time.monotonic() + self.seconds)


_recent_counts = RecentCounts()


@dataclass(frozen=True)
class MerchantOrderPage:
    count: int
    rows: list[dict[str, Any]]


@lru_cache(maxsize=256)
def _list_statements(
    by_state: bool, since: bool, until: bool, limit: int, first_page: bool
) -> tuple[ReadStatement, ReadStatement]:
    """(count, page rows) for this combination of filters and page size, built once each. The
    LIMIT is written into the SQL, and so is OFFSET 0 for a first page: with them as parameters
    PostgreSQL re-planned the prepared page at every call (its generic plan, not knowing the
    limit, read every merchant order item: 0.9 s on 100,000 orders), 0.3 to 1.3 ms of planning for
    0.15 ms of execution; with them written in, it keeps one plan. Later pages take their offset
    as a parameter (one statement whatever the page)."""
    where: list[ColumnElement[bool]] = [_mo.c.merchant_reference == MERCHANT]
    if by_state:
        where.append(
            exists().where(_moi.c.merchant_order_id == _mo.c.id, _moi.c.state == bindparam("state"))
        )
    if since:
        where.append(_mo.c.created_at >= bindparam("created_from"))
    if until:
        where.append(_mo.c.created_at < bindparam("created_to"))
    counted = select(func.count()).select_from(_mo).where(*where)
    page = (
        select(
            _mo.c.id,
            _mo.c.reference,
            _mo.c.created_at,
            *(_mo.c[name] for name in TOTAL_NAMES),
            _o.c.number.label("order_number"),
            _o.c.currency,
            _ch.c.channel_type,
            _p.c.status.label("package_status"),
        )
        .join(_o, _o.c.id == _mo.c.order_id)
        .join(_ch, _ch.c.id == _o.c.channel_id)
        .outerjoin(_p, _p.c.merchant_order_id == _mo.c.id)
        .where(*where)
        .order_by(_mo.c.id.desc())
        .offset(literal_column("0") if first_page else bindparam("offset"))
        .limit(literal_column(str(int(limit))))
        .subquery("page")
    )
    rows = (
        select(page, _moi.c.state, _moi.c.process)
        .select_from(page.outerjoin(_moi, _moi.c.merchant_order_id == page.c.id))
        .order_by(page.c.id.desc(), _moi.c.id)
    )
    return ReadStatement(counted), ReadStatement(rows)


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
    with at least one item in that state (the state is among their `states`). Two statements:
    the count, then the page's merchant orders with their items' states."""
    query = PageQuery.of(merchant_reference, state, created_from, created_to, offset, limit)
    key = (id(engine), query.count_key)
    with engine.connect() as connection:
        count = _recent_counts.get(key)
        if count is None:
            count = int(query.counted.rows(connection, query.params)[0][0])
            _recent_counts.put(key, count)
        rows = query.page.rows(connection, query.page_params) if count else []
        processes = processes_by_name(
            connection, {r.process for r in rows if r.process is not None}
        )
    return page_of(count, rows, processes)


@dataclass(frozen=True)
class PageQuery:
    """A merchant order list page's two statements and their values."""

    counted: ReadStatement
    page: ReadStatement
    params: dict[str, Any]
    page_params: dict[str, Any]

    @classmethod
    def of(
        cls,
        merchant_reference: str,
        state: str | None,
        created_from: datetime | None,
        created_to: datetime | None,
        offset: int,
        limit: int,
    ) -> PageQuery:
        counted, page = _list_statements(state is not None, created_from is not None,
                                         created_to is not None, limit, offset == 0)  # fmt: skip
        params: dict[str, Any] = {"merchant": merchant_reference}
        for name, value in (("state", state), ("created_from", created_from),
                            ("created_to", created_to)):  # fmt: skip
            if value is not None:
                params[name] = value
        paging = {"offset": offset} if offset else {}
        return cls(counted, page, params, {**params, **paging})

    @property
    def count_key(self) -> tuple[Any, ...]:
        return tuple(sorted(self.params.items()))


def recent_count(key: tuple[Any, ...]) -> int | None:
    return _recent_counts.get(key)


def remember_count(key: tuple[Any, ...], count: int) -> None:
    _recent_counts.put(key, count)


def page_of(
    count: int, rows: Sequence[Any], processes: dict[str, Process | None]
) -> MerchantOrderPage:
    """The page from its count and the page statement's rows."""
    merchant_orders: dict[int, Any] = {}
    pairs: dict[int, list[tuple[str, str]]] = {}
    for row in rows:
        merchant_orders.setdefault(row.id, row)
        if row.state is not None:
            pairs.setdefault(row.id, []).append((row.state, row.process))
    # a page's merchant orders mostly share their items' states: each combination is worked
    # out once per page (a third of the page's Python time went to the same answer 20 times)
    events: dict[tuple[Any, ...], list[str]] = {}
    return MerchantOrderPage(
        count,
        [_listed(mo, pairs.get(i, []), processes, events) for i, mo in merchant_orders.items()],
    )


def _listed(
    row: Any,
    pairs: list[tuple[str, str]],
    processes: dict[str, Process | None],
    events: dict[tuple[Any, ...], list[str]],
) -> dict[str, Any]:
    marketplace = is_marketplace_type(row.channel_type)
    key = (tuple(pairs), marketplace, row.package_status)
    manual = events.get(key)
    if manual is None:
        manual = events[key] = offered(pairs, processes, marketplace, row.package_status)
    return {
        "reference": row.reference,
        "order_number": row.order_number,
        "currency": row.currency,
        "created_at": row.created_at.isoformat(),
        "states": sorted({state for state, _ in pairs}),
        "manual_events": list(manual),
        "totals": {name: getattr(row, name) for name in TOTAL_NAMES},
    }
