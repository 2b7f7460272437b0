"""Product offer reservations (spec 9.5) over HTTP: `GET /api/v1/reservations/` (operator,
every merchant, `?merchant=&offer=&sku=`) and `GET /api/v1/merchant/reservations/` (a
merchant's own: the merchant comes from the key, never from the query; another merchant's offer
is simply not in the answer). Paged as every list (spec 11); the read is
adapters/queries/reservations.py, the one `oms reservations` uses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from adapters.persistence.merchants import merchant_exists
from adapters.queries.reservations import reservation_page
from api.auth import Merchant, Operator
from api.context import ApiContext
from api.errors import ERRORS, ApiError, Problem
from api.merchant_models import PRINTABLE
from api.models import ReservationRow
from api.pagination import Limit, Page, Paged, PageParams, paged
from api.responses import JSONResponse

router = APIRouter(prefix="/api/v1", tags=["reservations"], responses=ERRORS)

MerchantRef = Annotated[
    str | None,
    Query(min_length=1, max_length=128, pattern=PRINTABLE, description="one merchant's offers"),
]
Offer = Annotated[
    str | None,
    Query(min_length=1, max_length=255, pattern=PRINTABLE, description="product_offer_reference"),
]
Sku = Annotated[
    str | None,
    Query(min_length=1, max_length=255, pattern=PRINTABLE, description="SKU (items with no offer)"),
]
BOTH: dict[int | str, dict[str, Any]] = {
    400: {
        "model": Problem,
        "description": "offer and sku together (a reservation has one), or an unknown merchant",
    }
}


def _answer(
    request: Request,
    ctx: ApiContext,
    pages: PageParams,
    merchant: str | None,
    offer: str | None,
    sku: str | None,
    filtered: bool,
) -> JSONResponse:
    if offer is not None and sku is not None:
        raise ApiError(400, "give offer or sku, not both: a reservation is keyed by one of them")
    found = reservation_page(
        ctx.engine, merchant=merchant, offer=offer, sku=sku, offset=pages.offset, limit=pages.limit
    )
    if filtered and merchant and found.count == 0 and not merchant_exists(ctx.engine, merchant):
        # as an unknown channel or queue (spec 11): an operator's filter naming no merchant is a
        # 400; a merchant's own list is simply empty until its first order is split
        raise ApiError(400, f"unknown merchant {merchant!r}")
    results = [r.as_dict() for r in found.results]
    return JSONResponse(paged(request, pages, found.count, results))


@router.get("/reservations/", response_model=Paged[ReservationRow], responses=BOTH)
def list_reservations(
    request: Request,
    call: Operator,
    merchant: MerchantRef = None,
    offer: Offer = None,
    sku: Sku = None,
    page: Page = 1,
    limit: Limit = 20,
) -> JSONResponse:
    pages = PageParams(page=page, limit=limit)
    return _answer(request, call.ctx, pages, merchant, offer, sku, filtered=True)


@router.get("/merchant/reservations/", response_model=Paged[ReservationRow], responses=BOTH)
def list_merchant_reservations(
    request: Request,
    call: Merchant,
    offer: Offer = None,
    sku: Sku = None,
    page: Page = 1,
    limit: Limit = 20,
) -> JSONResponse:
    pages = PageParams(page=page, limit=limit)
    return _answer(request, call.ctx, pages, call.merchant, offer, sku, filtered=False)
