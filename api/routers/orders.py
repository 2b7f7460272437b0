"""`GET /api/v1/orders/` (summaries, paged, filtered), `GET /api/v1/orders/{number}/` (the
document of `oms show order --json`) and `GET /api/v1/orders/{number}/history/` (the timeline of
`oms show order --history --json`), through the same queries. {number}: an order number, else a
package number or a merchant order reference."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import Engine

from adapters.persistence.dead_letters import dead_letters, letter_state
from adapters.queries import awaited
from adapters.queries.history import find_histories
from adapters.queries.listing import channel_exists, order_summaries
from adapters.queries.orders import find_orders
from api.auth import Operator
from api.context import ApiContext
from api.errors import ERRORS, ApiError, Problem
from api.models import OrderDocument, OrderHistory, OrderSummary
from api.pagination import Limit, Page, Paged, PageParams, paged
from api.params import CreatedFrom, CreatedTo, OrderStatusFilter
from api.responses import JSONResponse

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses=ERRORS)

MAX_ID = 2**63 - 1
ChannelId = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="the channel's id (orders are unique per channel)"),
]
# no control characters: they are not order numbers, and PostgreSQL refuses NUL
Number = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


@router.get(
    "/",
    response_model=Paged[OrderSummary],
    responses={400: {"model": Problem, "description": "no such channel"}},
)
async def list_orders(
    request: Request,
    call: Operator,
    channel: ChannelId = None,
    status: OrderStatusFilter = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    page: Page = 1,
    limit: Limit = 20,
) -> JSONResponse:
    ctx, pages = call.ctx, PageParams(page=page, limit=limit)
    found = await ctx.read(
        order_summaries,
        ctx.reads,
        channel_id=channel,
        status=status,
        created_from=created_from,
        created_to=created_to,
        offset=pages.offset,
        limit=pages.limit,
    )
    if (
        channel is not None
        and found.count == 0
        and not await ctx.read(channel_exists, ctx.reads, channel)
    ):
        raise ApiError(400, f"unknown channel {channel}: no order of it was ever received")
    return JSONResponse(paged(request, pages, found.count, found.rows))


@router.get(
    "/{number}/",
    response_model=OrderDocument,
    responses={
        404: {"model": Problem, "description": "no such order"},
        409: {"model": Problem, "description": "the number exists in several channels"},
    },
)
async def get_order(call: Operator, number: Number, channel: ChannelId = None) -> JSONResponse:
    ctx = call.ctx
    views = await ctx.hot_read(awaited.find_orders, find_orders, number, channel)
    return JSONResponse(await _one(ctx, views, number, channel))


@router.get(
    "/{number}/history/",
    response_model=OrderHistory,
    responses={
        404: {"model": Problem, "description": "no such order"},
        409: {"model": Problem, "description": "the number exists in several channels"},
    },
)
async def get_order_history(
    call: Operator, number: Number, channel: ChannelId = None
) -> JSONResponse:
    ctx = call.ctx
    views = await ctx.read(find_histories, ctx.reads, number, channel)
    return JSONResponse(await _one(ctx, views, number, channel))


async def _one(
    ctx: ApiContext, views: list[dict[str, Any]], number: str, channel: int | None
) -> dict[str, Any]:
    """The one view of the order there is (404 naming its dead letters if none, 409 if the
    number is in several channels)."""
    if not views:
        detail = await ctx.read(_dead_lettered, ctx.engine, number, channel)
        raise ApiError(404, f"order {number} not found" + detail)
    if len(views) > 1:
        channels = ", ".join(str(v["channel"]["id"]) for v in views)
        raise ApiError(409, f"order {number} exists in channels {channels}: give ?channel=ID")
    return views[0]


def _dead_lettered(engine: Engine, number: str, channel: int | None) -> str:
    """An order that was never stored because its message was dead-lettered: which dead letter,
    why, and where to list and replay it (operators only: these endpoints need their key)."""
    letters = dead_letters(engine, None, order_number=number, channel_id=channel)
    if not letters:
        return ""
    last = letters[-1]
    queue, record = last["queue_name"], last["id"]
    return (
        f"; it was dead-lettered ({len(letters)} dead letter{'s' if len(letters) > 1 else ''}"
        f", the last: {queue} {record}, {letter_state(last)}: {last['reason'][:300]}); "
        f"GET /api/v1/dead-letters/?queue={queue}, POST /api/v1/dead-letters/{record}/replay/"
    )
