"""The merchant portal (spec section 11): a merchant key sees its own merchant's merchant orders
only. Another merchant's merchant order answers exactly what a missing one answers (404, the
same body), decided by a read before anything is published. Events are messages to
`oms.merchant` (source `api`, the merchant reference taken from the key), awaited in the
merchant transition log like package commands: 200 with each item's outcome, 400 for a
rejection of the whole request, 202 with a status URL when not known in time."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from adapters.messaging.message_ids import made_here
from adapters.queries import awaited
from adapters.queries.merchant_event_status import EventStatus, merchant_event_status
from adapters.queries.merchant_reads import (
    merchant_order_detail,
    merchant_order_events,
    merchant_order_page,
)
from adapters.queries.merchant_states import state_known
from api.auth import Merchant
from api.errors import BODY_ERRORS, ERRORS, ApiError, Problem
from api.links import link_for
from api.merchant_models import (
    PRINTABLE,
    MerchantEventAccepted,
    MerchantEventRequest,
    MerchantEventStatus,
    MerchantOrderDetail,
    MerchantOrderSummary,
)
from api.pagination import Limit, Page, Paged, PageParams, paged
from api.params import CreatedFrom, CreatedTo
from api.responses import JSONResponse
from flows.merchant_events import MerchantOrderNotFound, UnknownEvent, trigger_and_await

router = APIRouter(prefix="/api/v1/merchant", tags=["merchant portal"], responses=ERRORS)

Reference = Annotated[
    str, Path(min_length=1, max_length=300, pattern=PRINTABLE, description="merchant order")
]
State = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        pattern=PRINTABLE,
        description="merchant orders with at least one item in this state",
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "no such merchant order (or another merchant's)"}
}


def not_found(reference: str) -> ApiError:
    """The one answer for a missing merchant order and another merchant's."""
    return ApiError(404, f"merchant order {reference} not found")


@router.get(
    "/orders/",
    response_model=Paged[MerchantOrderSummary],
    responses={400: {"model": Problem, "description": "a state no merchant process has"}},
)
async def list_merchant_orders(
    request: Request,
    call: Merchant,
    state: State = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    page: Page = 1,
    limit: Limit = 20,
) -> JSONResponse:
    ctx, pages = call.ctx, PageParams(page=page, limit=limit)
    found = await ctx.hot_read(
        awaited.merchant_order_page,
        merchant_order_page,
        call.merchant,
        state=state,
        created_from=created_from,
        created_to=created_to,
        offset=pages.offset,
        limit=pages.limit,
    )
    if (
        state is not None
        and found.count == 0
        and not await ctx.read(state_known, ctx.engine, state)
    ):
        raise ApiError(400, f"unknown state {state!r}: no merchant process has it")
    return JSONResponse(paged(request, pages, found.count, found.rows))


@router.get("/orders/{reference}/", response_model=MerchantOrderDetail, responses=NOT_FOUND)
async def get_merchant_order(call: Merchant, reference: Reference) -> JSONResponse:
    ctx = call.ctx
    found = await ctx.hot_read(
        awaited.merchant_order_detail, merchant_order_detail, reference, call.merchant
    )
    if found is None:
        raise not_found(reference)
    return JSONResponse(found)


def _status_body(event_id: str, status: EventStatus | None) -> dict[str, Any]:
    if status is None:
        return {"event_id": event_id, "status": "pending", "detail": None, "outcomes": []}
    rejected = status.rejected_whole
    if rejected is not None:
        return {"event_id": event_id, "status": "rejected", "detail": rejected, "outcomes": []}
    return {
        "event_id": event_id,
        "status": "handled",
        "detail": None,
        "outcomes": [
            {
                "item_reference": r.item_reference,
                "outcome": r.outcome.value,
                "from_state": r.from_state,
                "to_state": r.to_state,
                "reason": r.reason,
            }
            for r in status.records
        ],
    }


@router.post(
    "/orders/{reference}/events/",
    response_model=MerchantEventStatus,
    responses={
        **NOT_FOUND,
        200: {"model": MerchantEventStatus, "description": "handled: each item's outcome"},
        202: {"model": MerchantEventAccepted, "description": "outcome not known in time"},
        400: {"model": Problem, "description": "the whole request rejected (unknown event)"},
        **BODY_ERRORS,
    },
)
async def trigger_event(
    request: Request, call: Merchant, reference: Reference, body: MerchantEventRequest
) -> JSONResponse:
    ctx = call.ctx
    merchant = call.merchant
    try:
        triggered = await trigger_and_await(
            ctx.engine,
            ctx.reads,
            ctx.publisher.publish,
            merchant_reference=merchant,
            reference=reference,
            event=body.event,
            item_references=body.item_references,
            source="api",
            wait_seconds=ctx.wait_seconds,
            poll_seconds=ctx.poll_seconds,
        )
    except MerchantOrderNotFound:
        raise not_found(reference) from None
    except UnknownEvent as error:
        raise ApiError(400, str(error)) from None
    event_id, found = triggered.event_id, triggered.status
    if found is None:
        url = link_for(request, "merchant_event_status", reference=reference, event_id=event_id)
        return JSONResponse(
            {"event_id": event_id, "status_url": url}, status_code=202, headers={"Location": url}
        )
    answer = _status_body(event_id, found)
    if answer["status"] == "rejected":
        raise ApiError(400, answer["detail"])
    return JSONResponse(answer)


@router.get(
    "/orders/{reference}/events/{event_id}/",
    response_model=MerchantEventStatus,
    name="merchant_event_status",
    responses={
        404: {
            "model": Problem,
            "description": "no such merchant order (or another merchant's), or an event id "
            "with no outcome that this API did not publish",
        }
    },
)
def event_status(call: Merchant, reference: Reference, event_id: uuid.UUID) -> JSONResponse:
    ctx = call.ctx
    merchant = call.merchant
    if merchant_order_events(ctx.reads, reference, merchant) is None:
        raise not_found(reference)
    found = merchant_event_status(ctx.engine, str(event_id), merchant, reference)
    if found is None and not made_here(event_id):
        raise ApiError(404, f"event {event_id} not found")
    return JSONResponse(_status_body(str(event_id), found))
