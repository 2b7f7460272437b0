"""Operations: dead letters (as `oms dlq list/replay`), queues (as `oms queues --json`) and
`GET /healthz` (no token): 200 when the database and the broker answered the last check, else
503 naming them; the checks run in the background (api/health.py), not per probe."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text

from adapters.messaging.dead_letter_keeper import PIPELINE_QUEUES
from adapters.messaging.publisher import BrokerUnavailable
from adapters.messaging.replay import NotReplayable, replay_letter
from adapters.persistence.dead_letters import dead_letter_by_id
from adapters.queries.listing import dead_letter_page
from adapters.queries.queues import live_queue_snapshot
from api.auth import Context, Operator
from api.context import ApiContext
from api.errors import ERRORS, ApiError, Problem
from api.health import HealthState
from api.models import DeadLetter, Health, QueueSnapshot, Replayed
from api.pagination import Limit, Page, Paged, PageParams, paged
from api.responses import JSONResponse

router = APIRouter(prefix="/api/v1", tags=["operations"], responses=ERRORS)
health_router = APIRouter(tags=["operations"])

MAX_ID = 2**63 - 1
QueueName = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9._:-]{1,255}$", description="e.g. oms.ingest")
]


@router.get(
    "/dead-letters/",
    response_model=Paged[DeadLetter],
    responses={400: {"model": Problem, "description": "no such queue"}},
)
def list_dead_letters(
    request: Request,
    call: Operator,
    queue: QueueName = None,
    page: Page = 1,
    limit: Limit = 20,
) -> JSONResponse:
    ctx, pages = call.ctx, PageParams(page=page, limit=limit)
    found = dead_letter_page(ctx.engine, queue, offset=pages.offset, limit=pages.limit)
    if queue is not None and found.count == 0 and queue not in PIPELINE_QUEUES:
        # as `oms dlq list QUEUE`: a queue is known when it is the pipeline's or has letters
        queues = ", ".join(PIPELINE_QUEUES)
        raise ApiError(400, f"unknown queue {queue!r}; the pipeline's queues are {queues}")
    return JSONResponse(paged(request, pages, found.count, found.rows))


@router.post(
    "/dead-letters/{letter_id}/replay/",
    response_model=Replayed,
    responses={
        404: {"model": Problem, "description": "no such dead letter"},
        409: {"model": Problem, "description": "not a dramatiq message: fix and publish it"},
    },
)
def replay_dead_letter(
    call: Operator, letter_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> JSONResponse:
    ctx = call.ctx
    letter = dead_letter_by_id(ctx.engine, letter_id)
    if letter is None:
        raise ApiError(404, f"dead letter {letter_id} not found")
    try:
        replay_letter(ctx.publisher.publish, ctx.engine, letter)
    except NotReplayable as error:
        raise ApiError(409, str(error)) from None
    return JSONResponse(
        {
            "id": letter["id"],
            "message_id": letter["message_id"],
            "queue_name": letter["queue_name"],
            "replayed": True,
        }
    )


@router.get("/queues/", response_model=QueueSnapshot)
def queues(call: Operator) -> JSONResponse:
    ctx = call.ctx
    return JSONResponse(live_queue_snapshot(ctx.settings.broker_url, ctx.engine))


def _checks(ctx: ApiContext) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"down: {type(error).__name__}"
    try:
        ctx.publisher.check()
        checks["broker"] = "ok"
    except BrokerUnavailable as error:
        checks["broker"] = f"down: {str(error)[:200]}"
    return checks


@health_router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "database or broker unavailable"}},
)
async def healthz(ctx: Context) -> JSONResponse:
    if ctx.health is None:
        ctx.health = HealthState(lambda: _checks(ctx))
    checks = ctx.health.latest()
    if checks is None:
        checks = await run_in_threadpool(ctx.health.first)
    down = [name for name, verdict in checks.items() if verdict != "ok"]
    body: dict[str, object] = {"healthy": not down, "checks": checks}
    if down:
        body["detail"] = " and ".join(down) + " unavailable"
    return JSONResponse(body, status_code=503 if down else 200)
