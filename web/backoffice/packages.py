"""Back Office packages (spec 12): the list of `oms packages list` with its filters (status,
channel; oldest first, keyset pages on the id), and a packaging command for the packages
selected or for "all N in this state" — run by flows/package_bulk.py, the code of `oms package
command --status`; its page shows the progress, then the summary exactly as the command prints
it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response

from adapters.queries.backoffice_orders import channels
from adapters.queries.packages import count_packages, list_packages, slugs_from, status_code
from domain.statuses import PackageStatus
from web.auth import WebError, check_change
from web.backoffice import package_jobs
from web.backoffice.access import Ctx, area_router
from web.rendering import render

router = area_router()
PAGE_SIZE = 100
MAX_ID = 2**63 - 1
Text = Annotated[str | None, Query(max_length=100)]


def _status(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return status_code(value)
    except ValueError as error:
        raise WebError(400, "Bad status", str(error)) from None


def _channel(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise WebError(400, "Bad channel", "channel: expected a channel id")
    return int(value)


@router.get("/packages/")
def package_list(
    request: Request,
    ctx: Ctx,
    status: Text = None,
    channel: Text = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    code, channel_id = _status(status), _channel(channel)
    rows = list_packages(
        ctx.reads, status=code, channel_id=channel_id, after_id=after, limit=PAGE_SIZE + 1
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    kept = {k: v for k, v in {"status": status, "channel": channel}.items() if v}
    return render(
        request,
        "backoffice/packages.html",
        rows=rows,
        now=datetime.now(UTC),
        filters={"status": status or "", "channel": channel or ""},
        total=count_packages(ctx.reads, status=code, channel_id=channel_id)
        if code is not None
        else None,
        slugs=slugs_from(ctx.reads, code) if code is not None else [],
        statuses=[s.name for s in PackageStatus],
        channels=[(str(i), name) for i, name in channels(ctx.reads)],
        next_url="/backoffice/packages/?" + urlencode({**kept, "after": rows[-1].id})
        if more
        else None,
        first_url="/backoffice/packages/?" + urlencode(kept) if after else None,
    )


@router.post("/packages/command")
async def package_command(request: Request, ctx: Ctx) -> Response:
    form = await request.form(max_files=0, max_fields=PAGE_SIZE + 20)  # the selection's ids
    fields = await check_change(request, ctx)
    code, channel_id = _status(fields.get("status")), _channel(fields.get("channel"))
    slug = fields.get("slug", "")
    if code is None or not slug:
        raise WebError(400, "Nothing to run", "Choose a status filter and a command first.")
    package_ids: list[int] | None = None
    if fields.get("scope") != "all":
        chosen = [v for v in form.getlist("package") if isinstance(v, str) and v.isdigit()]
        if not chosen:
            raise WebError(400, "No package selected", "Select packages, or run on all of them.")
        package_ids = [int(v) for v in chosen]
    engine, broker_url = ctx.engine, ctx.settings.broker_url
    job = await to_thread.run_sync(
        package_jobs.start, engine, broker_url, slug, code, channel_id, package_ids
    )
    return RedirectResponse(f"/backoffice/packages/runs/{job.id}", status_code=303)


@router.get("/packages/runs/{job_id}")
def package_run(request: Request, job_id: str) -> Response:
    job = package_jobs.find(job_id)
    if job is None:
        raise WebError(404, "No such run", "This packaging run is not known (any more) here.")
    return render(request, "backoffice/package_run.html", job=job)
