"""The API's wait for a worker's outcome: flows/awaiting.py with OMS_API_WAIT_SECONDS."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from api.context import ApiContext
from flows.awaiting import await_found as _await_found

T = TypeVar("T")


async def await_found(ctx: ApiContext, look: Callable[[], T | None]) -> T | None:
    """`look()` until it finds something or OMS_API_WAIT_SECONDS passed."""
    return await _await_found(look, ctx.wait_seconds, ctx.poll_seconds)
