"""Awaiting a worker's outcome without holding anything while waiting: `look` takes a pooled
connection per call and gives it back (in a worker thread); the caller's coroutine sleeps on the
event loop in between. The API's package commands and merchant events and the portal's event
buttons all wait this way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread

T = TypeVar("T")


async def await_found(
    look: Callable[[], T | None], wait_seconds: float, poll_seconds: float
) -> T | None:
    """`look()` until it finds something or `wait_seconds` passed (backing off from half the
    poll interval to 0.5 s)."""
    deadline = time.monotonic() + wait_seconds
    pause = poll_seconds / 2
    while True:
        found = await to_thread.run_sync(look)
        if found is not None or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, 0.5)
