"""Back Office reservations (spec 9.5, 12): every merchant's reserved offers, filterable by
merchant, offer or SKU, and the result of `oms reservations verify` (the same reads:
adapters/queries/reservations.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from adapters.queries.reservations import reservation_page, verify_reservations
from web.auth import WebError
from web.backoffice.access import Ctx, area_router
from web.rendering import render

router = area_router()
PAGE_SIZE = 50
Text = Annotated[str | None, Query(max_length=300)]


@router.get("/reservations/")
def reservations(
    request: Request,
    ctx: Ctx,
    merchant: Text = None,
    offer: Text = None,
    sku: Text = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    verify: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    merchant, offer, sku = (v.strip() or None if v else None for v in (merchant, offer, sku))
    if offer and sku:
        raise WebError(400, "Offer or SKU", "Give an offer or a SKU, not both.")
    found = reservation_page(
        ctx.reads, merchant=merchant, offer=offer, sku=sku,
        offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
    )  # fmt: skip
    kept = {k: v for k, v in {"merchant": merchant, "offer": offer, "sku": sku}.items() if v}
    differences = [d.line() for d in verify_reservations(ctx.engine)] if verify else None
    return render(
        request,
        "backoffice/reservations.html",
        found=found,
        rows=[r.as_dict() for r in found.results],
        filters={"merchant": merchant or "", "offer": offer or "", "sku": sku or ""},
        differences=differences,
        verify_url="/backoffice/reservations/?" + urlencode({**kept, "verify": 1}),
        next_url="/backoffice/reservations/?" + urlencode({**kept, "page": page + 1})
        if page * PAGE_SIZE < found.count
        else None,
        page=page,
    )
