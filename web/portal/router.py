"""The Merchant Portal's pages (spec 12) — orders, one merchant order, the CSV export, the
reservations (spec 9.5) — for merchant users, each seeing its own merchant's
data only: another merchant's merchant order answers the same 404 page as a missing one. Reads
go through adapters/queries (the API's reads where there is one); an event button publishes and
awaits through flows/merchant_events.py, the API's own code, then shows the outcome on the
merchant order's page (post, redirect, get: reloading does not send the event again)."""

from __future__ import annotations

import io
import math
import tempfile
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.persistence.users import User
from adapters.queries.merchant_event_status import EventStatus, merchant_event_status
from adapters.queries.merchant_export import ExportFilter
from adapters.queries.merchant_orders import process_rows
from adapters.queries.merchant_reads import merchant_order_detail
from adapters.queries.portal import merchant_order_timeline, merchant_states, portal_order_page
from adapters.queries.reservations import reservation_page
from api.context import ApiContext, context
from flows.csv_export import FILES, export_merchant_orders
from flows.merchant_events import MerchantOrderNotFound, UnknownEvent, trigger_and_await
from web.auth import WebError, check_change, require_merchant
from web.process_svg import process_svg
from web.rendering import render

router = APIRouter(prefix="/portal", include_in_schema=False)
PAGE_SIZE = 20
Ctx = Annotated[ApiContext, Depends(context)]
MerchantUser = Annotated[User, Depends(require_merchant)]
Text = Annotated[str | None, Query(max_length=200)]


def _merchant(user: User) -> str:
    assert user.merchant_reference is not None  # require_merchant checked it
    return user.merchant_reference


def not_found(reference: str) -> WebError:
    """The one answer for a missing merchant order and another merchant's."""
    return WebError(
        404,
        "Merchant order not found",
        f"There is no merchant order {reference} among your orders. Check the reference, or "
        "find the order in your order list.",
    )


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WebError(400, "Bad date", f"{field}: expected a date like 2026-11-20") from None


def _range(created_from: str | None, created_to: str | None) -> tuple[datetime | None, ...]:
    """A from date is its midnight (UTC); a to date includes its whole day."""
    start, end = _day(created_from, "from"), _day(created_to, "to")
    return (
        datetime.combine(start, datetime.min.time(), UTC) if start else None,
        datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) if end else None,
    )


@router.get("/")
def order_list(
    request: Request,
    ctx: Ctx,
    user: MerchantUser,
    state: Text = None,
    created_from: Text = None,
    created_to: Text = None,
    q: Text = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    start, end = _range(created_from, created_to)
    states = merchant_states(ctx.engine)
    chosen = state or None
    if chosen is not None and chosen not in states:
        raise WebError(400, "Unknown state", "No merchant process has that state.")
    search = (q or "").strip() or None
    found = portal_order_page(
        ctx.engine,
        _merchant(user),
        state=chosen,
        created_from=start,
        created_to=end,
        search=search,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    pages = max(1, math.ceil(found.count / PAGE_SIZE))
    filters = {
        "state": chosen or "",
        "created_from": created_from or "",
        "created_to": created_to or "",
        "q": search or "",
    }
    kept = {k: v for k, v in filters.items() if v}

    def link(number: int) -> str:
        return "/portal/?" + urlencode({**kept, "page": number})

    return render(
        request,
        "portal/orders.html",
        found=found,
        filters=filters,
        filtered=bool(kept),
        states=states,
        page=page,
        pages=pages,
        previous=link(page - 1) if page > 1 else None,
        next=link(page + 1) if page < pages else None,
    )


def _status_view(status: EventStatus | None) -> dict[str, Any]:
    if status is None:
        return {"status": "pending", "detail": None, "outcomes": []}
    rejected = status.rejected_whole
    if rejected is not None:
        return {"status": "rejected", "detail": rejected, "outcomes": []}
    return {"status": "handled", "detail": None, "outcomes": status.records}


@router.get("/orders/{reference}/")
def merchant_order(
    request: Request,
    ctx: Ctx,
    user: MerchantUser,
    reference: str,
    event: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    merchant = _merchant(user)
    detail = merchant_order_detail(ctx.reads, reference, merchant)
    if detail is None:
        raise not_found(reference)
    timeline = merchant_order_timeline(ctx.engine, reference, merchant) or []
    pictures = {}
    processes = {
        name: process_rows(SqlUnitOfWork(ctx.engine), name)
        for name in {item["process"] for item in detail["overview"]["items"]}
    }
    for index, item in enumerate(detail["overview"]["items"]):
        process = processes[item["process"]]
        if process is not None:
            pictures[item["reference"]] = process_svg(
                process,
                item["state"],
                f"{item['process']}: {item['sku']} is in state {item['state']}",
                f"p{index}",
            )
    outcome = None
    if event is not None:
        outcome = _status_view(merchant_event_status(ctx.engine, str(event), merchant, reference))
    return render(
        request,
        "portal/order.html",
        mo=detail,
        timeline=timeline,
        pictures=pictures,
        outcome=outcome,
        wait_seconds=ctx.wait_seconds,
        quoted=quote(reference, safe=""),
    )


@router.post("/orders/{reference}/events")
async def trigger(request: Request, ctx: Ctx, user: MerchantUser, reference: str) -> Response:
    fields = await check_change(request, ctx)
    event = fields.get("event", "")
    item = fields.get("item") or None
    try:
        triggered = await trigger_and_await(
            ctx.engine,
            ctx.reads,
            ctx.publisher.publish,
            merchant_reference=_merchant(user),
            reference=reference,
            event=event,
            item_references=[item] if item else None,
            source="merchant",
            wait_seconds=ctx.wait_seconds,
            poll_seconds=ctx.poll_seconds,
        )
    except MerchantOrderNotFound:
        raise not_found(reference) from None
    except UnknownEvent:
        raise WebError(
            400, "Unknown event", "None of this order's items knows that event."
        ) from None
    target = f"/portal/orders/{quote(reference, safe='')}/?event={triggered.event_id}"
    return RedirectResponse(target + "#outcome", status_code=303)


@router.get("/export")
async def export(
    ctx: Ctx, user: MerchantUser, created_from: Text = None, created_to: Text = None
) -> Response:
    """The merchant's own CSV export (spec 10.3) for a date range, as one zip file."""
    start, end = _range(created_from, created_to)
    merchant = _merchant(user)
    where = ExportFilter(merchants=(merchant,), created_from=start, created_to=end)
    data = await to_thread.run_sync(_export_zip, ctx, where, merchant)
    name = f"{merchant}-merchant-orders.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _export_zip(ctx: ApiContext, where: ExportFilter, merchant: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="oms-portal-export-") as folder:
        report = export_merchant_orders(ctx.engine, Path(folder), where)
        mine = Path(folder) / report.merchants[merchant].folder
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file_name, _, _ in FILES:
                archive.write(mine / file_name, file_name)
    return buffer.getvalue()


@router.get("/reservations/")
def reservations(
    request: Request,
    ctx: Ctx,
    user: MerchantUser,
    offer: Text = None,
    sku: Text = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The merchant's own product offer reservations (spec 9.5), by offer (or SKU)."""
    offer, sku = (offer or "").strip() or None, (sku or "").strip() or None
    if offer is not None and sku is not None:
        raise WebError(400, "One filter at a time", "Give an offer reference or a SKU, not both.")
    found = reservation_page(
        ctx.engine,
        merchant=_merchant(user),
        offer=offer,
        sku=sku,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    pages = max(1, math.ceil(found.count / PAGE_SIZE))
    kept = {k: v for k, v in {"offer": offer, "sku": sku}.items() if v}

    def link(number: int) -> str:
        return "/portal/reservations/?" + urlencode({**kept, "page": number})

    return render(
        request,
        "portal/reservations.html",
        found=found,
        filters={"offer": offer or "", "sku": sku or ""},
        filtered=bool(kept),
        merchant=_merchant(user),
        page=page,
        pages=pages,
        previous=link(page - 1) if page > 1 else None,
        next=link(page + 1) if page < pages else None,
    )
