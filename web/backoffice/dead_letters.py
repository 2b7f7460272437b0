"""Back Office dead letters (spec 10, 12): per queue with the reason, the order number and the
body; replay (after a warning when the body failed validation: it fails the same way again) and
resolve with a note — the code of `oms dlq replay|resolve` (flows/dead_letters.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response

from adapters.messaging.dead_letter_keeper import PIPELINE_QUEUES
from adapters.persistence.dead_letters import dead_letter_by_id, open_dead_letters
from adapters.queries.backoffice_dead_letters import letter_page
from flows.dead_letters import (
    failed_validation,
    not_replayed,
    replay,
    resolve_letter,
    validation_warning,
)
from web.auth import WebError, check_change
from web.backoffice.access import Ctx, area_router
from web.rendering import render

router = area_router()
MAX_ID = 2**63 - 1
Queue = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._:-]{1,255}$")]


def _letter(ctx: Ctx, letter_id: int) -> dict[str, Any]:
    letter = dead_letter_by_id(ctx.engine, letter_id) if 1 <= letter_id <= MAX_ID else None
    if letter is None:
        raise WebError(404, "Dead letter not found", f"There is no dead letter {letter_id}.")
    return letter


def _back(request: Request, queue: str, said: str) -> RedirectResponse:
    """Back to the queue's letters, saying what happened once (kept in the signed session, not
    in the address: a link cannot make the page say something else)."""
    request.session["dead_letters_said"] = said[:500]
    return RedirectResponse(
        "/backoffice/dead-letters/?" + urlencode({"queue": queue}), status_code=303
    )


@router.get("/dead-letters/")
def letters(
    request: Request,
    ctx: Ctx,
    queue: Queue = None,
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    said = request.session.pop("dead_letters_said", None)
    rows, next_before = letter_page(ctx.reads, queue, open_only=show == "open", before=before)
    for letter in rows:
        letter["body"] = json.dumps(letter["message"], indent=2, ensure_ascii=False, default=str)
        letter["warning"] = failed_validation(letter)
        letter["replayable"] = not_replayed(letter) is None
    counts = open_dead_letters(ctx.reads)
    kept = {k: v for k, v in {"queue": queue, "show": show}.items() if v}
    return render(
        request,
        "backoffice/dead_letters.html",
        letters=rows,
        queue=queue,
        show=show,
        queues=sorted(set(PIPELINE_QUEUES) | set(counts)),
        counts=counts,
        said=said,
        next_url="/backoffice/dead-letters/?" + urlencode({**kept, "before": next_before})
        if next_before
        else None,
    )


@router.post("/dead-letters/{letter_id}/replay")
async def replay_letter(request: Request, ctx: Ctx, letter_id: int) -> Response:
    fields = await check_change(request, ctx)
    letter = await to_thread.run_sync(_letter, ctx, letter_id)
    why = not_replayed(letter)
    if why is not None:
        return _back(request, letter["queue_name"], why)
    if failed_validation(letter) and fields.get("confirm") != "yes":
        return render(
            request, "backoffice/replay_warning.html", letter=letter,
            warning=validation_warning(letter),
        )  # fmt: skip
    done = await to_thread.run_sync(replay, ctx.publisher.publish, ctx.engine, letter)
    again = ": failed again already" if done.failed_again else ""
    return _back(
        request, letter["queue_name"], f"replayed {done.letter_id} ({done.message_id}){again}"
    )


@router.post("/dead-letters/{letter_id}/resolve")
async def resolve(request: Request, ctx: Ctx, letter_id: int) -> Response:
    fields = await check_change(request, ctx)
    letter = await to_thread.run_sync(_letter, ctx, letter_id)
    note = fields.get("note", "").strip()
    if not note:
        return _back(
            request, letter["queue_name"], "resolving a dead letter needs a note saying why"
        )
    done = await to_thread.run_sync(resolve_letter, ctx.engine, letter, note)
    return _back(request, letter["queue_name"], done.message)
