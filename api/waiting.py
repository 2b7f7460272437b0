"""Awaiting a worker's outcome without holding anything while waiting: `look` takes a pooled
connection per call and gives it back; the handler sleeps on the event loop in between."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool

from api.context import ApiContext

T = TypeVar("T")


async def await_found(ctx: ApiContext, look: Callable[[], T | None]) -> T | None:
    """`look()` until it finds something or OMS_API_WAIT_SECONDS passed (backing off from half
    the poll interval to 0.5 s)."""
    deadline = time.monotonic() + ctx.wait_seconds
    pause = ctx.poll_seconds / 2
    while True:
        found = await run_in_threadpool(look)
        if found is not None or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, 0.5)
