"""The seed's command call, `POST /api/v1/packages/{id}/command/`: published to
`oms.packaging` (the packaging workers stay the only writers), then its outcome awaited up to
OMS_API_WAIT_SECONDS by polling the transition log with a short-lived connection per look, so
no connection and no thread is held while waiting: 204 applied, 400 rejected, 202 not known yet.
`GET /api/v1/package-commands/{command_id}/` reads an outcome later: pending while a command this
API published has none yet, 404 for an id with no outcome that it never published
(adapters/messaging/message_ids.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from adapters.messaging.message_ids import made_here, new_message_id
from adapters.messaging.publisher import PACKAGING
from adapters.queries.package_commands import CommandOutcome, command_outcome, package_exists
from api.auth import Operator
from api.context import ApiContext
from api.errors import BODY_ERRORS, ERRORS, ApiError, Problem
from api.links import link_for
from api.models import CommandAccepted, CommandStatus
from api.responses import JSONResponse
from api.waiting import await_found
from schemas.package_command import PackageCommandBody

router = APIRouter(prefix="/api/v1", tags=["packages"], responses=ERRORS)

MAX_ID = 2**63 - 1


async def await_outcome(ctx: ApiContext, message_id: str) -> CommandOutcome | None:
    return await await_found(ctx, lambda: command_outcome(ctx.engine, message_id))


@router.post(
    "/packages/{package_id}/command/",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "applied"},
        202: {"model": CommandAccepted, "description": "outcome not known in time"},
        400: {"model": Problem, "description": "rejected; the reason names the package's state"},
        404: {"model": Problem, "description": "no such package"},
        **BODY_ERRORS,
    },
)
async def run_command(
    request: Request,
    call: Operator,
    package_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: PackageCommandBody,
) -> Response:
    ctx = call.ctx
    if not await run_in_threadpool(package_exists, ctx.engine, package_id):
        raise ApiError(404, f"package {package_id} not found")
    message = {"package_id": package_id, **body.model_dump()}
    command_id = new_message_id()
    await run_in_threadpool(ctx.publisher.publish, *PACKAGING, message, command_id)
    found = await await_outcome(ctx, command_id)
    if found is None:
        url = link_for(request, "command_status", command_id=command_id)
        return JSONResponse(
            {"command_id": command_id, "status_url": url},
            status_code=202,
            headers={"Location": url},
        )
    if found.applied:
        return Response(status_code=204)
    raise ApiError(400, found.reason)


@router.get(
    "/package-commands/{command_id}/",
    response_model=CommandStatus,
    name="command_status",
    responses={404: {"model": Problem, "description": "no outcome, and not published here"}},
)
def command_status(call: Operator, command_id: uuid.UUID) -> JSONResponse:
    ctx = call.ctx
    found = command_outcome(ctx.engine, str(command_id))
    if found is None and not made_here(command_id):
        raise ApiError(404, f"command {command_id} not found")
    body: dict[str, str | None] = {"command_id": str(command_id), "status": "pending"}
    if found is not None:
        body.update(
            status=found.outcome,
            detail=found.reason,
            package=found.package,
            from_status=found.from_status,
            to_status=found.to_status,
        )
    return JSONResponse(body)
