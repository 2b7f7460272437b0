"""Back Office orders (spec 12): the search (order number, package number, merchant order
reference, channel, status, date placed; keyset pages) and one order with its items, merchant
orders and their item states, packages and shipments, totals with the spec 4 identity shown as a
check, and the timeline of `oms show order --history` (the same reads: adapters/queries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response

from adapters.queries.backoffice_orders import OrderSearch, channels, search_orders
from adapters.queries.history import find_histories
from adapters.queries.orders import find_orders, identity_holds
from domain.model import TOTAL_NAMES
from domain.statuses import OrderStatus
from web.auth import WebError
from web.backoffice.access import Ctx, area_router
from web.rendering import render

router = area_router()
PAGE_SIZE = 50
Text = Annotated[str | None, Query(max_length=300)]


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WebError(400, "Bad date", f"{field}: expected a date like 2026-11-20") from None


def _midnight(day: date | None, plus: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=plus), datetime.min.time(), UTC)


def _status(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(OrderStatus.from_code(value)) if value.isdigit() else int(OrderStatus[value])
    except (KeyError, ValueError):
        raise WebError(400, "Bad status", f"no order status {value!r}") from None


def _channel(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise WebError(400, "Bad channel", f"channel: expected a channel id, not {value[:40]!r}")
    return int(value)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/backoffice/orders/", status_code=303)


@router.get("/orders/")
def order_search(
    request: Request,
    ctx: Ctx,
    q: Text = None,
    channel: Text = None,
    status: Text = None,
    placed_from: Text = None,
    placed_to: Text = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    key = (q or "").strip() or None
    search = OrderSearch(
        key=key,
        channel_id=_channel(channel),
        status=_status(status),
        placed_from=_midnight(_day(placed_from, "from")),
        placed_to=_midnight(_day(placed_to, "to"), plus=1),
        before=before,
        limit=PAGE_SIZE,
    )
    page = search_orders(ctx.reads, search)
    filters = {
        "q": key or "", "channel": channel or "", "status": status or "",
        "placed_from": placed_from or "", "placed_to": placed_to or "",
    }  # fmt: skip
    kept = {k: v for k, v in filters.items() if v}
    next_url = None
    if page.next_before is not None:
        next_url = "/backoffice/orders/?" + urlencode({**kept, "before": page.next_before})
    return render(
        request,
        "backoffice/orders.html",
        page=page,
        filters=filters,
        filtered=bool(kept),
        first_url="/backoffice/orders/?" + urlencode(kept) if before else None,
        next_url=next_url,
        channels=[(str(i), name) for i, name in channels(ctx.reads)],
        statuses=[s.name for s in OrderStatus],
    )


@router.get("/orders/{channel_id}/{number:path}/")
def order_page(request: Request, ctx: Ctx, channel_id: int, number: str) -> Response:
    found = find_orders(ctx.reads, number, channel_id)
    view = next((o for o in found if o["number"] == number), None)
    if view is None:
        raise WebError(
            404, "Order not found", f"There is no order {number} in channel {channel_id}."
        )
    histories = find_histories(ctx.reads, number, channel_id)
    events = histories[0]["events"] if histories else []
    return render(
        request,
        "backoffice/order.html",
        order=view,
        identity=_identity(view),
        identity_ok=identity_holds(view),
        events=events,
    )


def _identity(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Per total: the order's, the sum of its merchant orders', the marketplace's own, and
    whether order = merchant orders + marketplace (spec 4)."""
    rows = []
    for name in TOTAL_NAMES:
        merchants = sum(mo["totals"][name] for mo in view["merchant_orders"])
        marketplace = view["marketplace_expenses"][name]
        order = view["totals"][name]
        rows.append(
            {
                "name": name,
                "order": order,
                "merchants": merchants,
                "marketplace": marketplace,
                "ok": order == merchants + marketplace,
            }
        )
    return rows
