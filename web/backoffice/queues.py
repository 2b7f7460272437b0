"""Back Office queues (spec 12): the figures of `oms queues` (adapters/queries/queues.py), the
page refreshing them every 3 s from queues.json without a reload (web/static/backoffice-queues.js,
no inline script: the CSP forbids it), and a small chart per queue of its depth over the last 15
minutes from queue_depth_samples (written by the dead-letter keeper, `oms dlq keep --loop`,
every OMS_QUEUE_SAMPLE_SECONDS; docs/web.md says what it costs)."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from adapters.persistence.queue_samples import WINDOW
from adapters.queries.queue_depths import depth_series
from adapters.queries.queues import live_queue_snapshot
from web.backoffice.access import Ctx, area_router
from web.rendering import render

router = area_router()
COLUMNS = {
    "ready": "Ready", "unacked": "Unacked", "consumers": "Consumers", "publish_rate": "In/s",
    "deliver_rate": "Out/s", "retry_backlog": "Retry (.DQ)", "dead_letter_queue": "Dead (.XQ)",
    "dead_letters_recorded": "Dead letters open",
}  # fmt: skip


def _snapshot(ctx: Ctx) -> dict[str, Any]:
    return live_queue_snapshot(ctx.settings.broker_url, ctx.reads)


def _with_series(ctx: Ctx) -> dict[str, Any]:
    snapshot = _snapshot(ctx)
    return {
        **snapshot,
        "window_seconds": WINDOW.total_seconds(),
        "series": {q: [list(p) for p in s] for q, s in depth_series(ctx.reads).items()},
    }


@router.get("/queues/")
async def queues_page(request: Request, ctx: Ctx) -> Response:
    snapshot = await to_thread.run_sync(_snapshot, ctx)
    return render(request, "backoffice/queues.html", data=snapshot, columns=COLUMNS)


@router.get("/queues.json")
async def queues_json(ctx: Ctx) -> Response:
    data = await to_thread.run_sync(_with_series, ctx)
    return JSONResponse(data, headers={"Cache-Control": "no-store"})
