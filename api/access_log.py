"""The access log: one JSON line per request with method, path, status and milliseconds; no
headers (the key), no query string. It wraps every other layer (guards included), so a request
refused by a guard, or one whose handler raised (logged as 500, the answer the error handler
then sends), is logged too; one the client abandoned before any answer is logged as 499. With
the log level above INFO (OMS_LOG_LEVEL=WARNING) it logs nothing, and then costs a request
nothing but the level check: no wrapper around its answer (issue 22: 5 % of a read's Python)."""

from __future__ import annotations

import logging
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = structlog.get_logger("api.access")
CLIENT_GONE = 499  # no answer was sent: the client closed the connection first (nginx's code)


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.is_enabled_for(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            status = status or 500  # what the error handler answers next
            raise
        finally:
            access_log.info(
                "api.request",
                method=scope["method"],
                path=scope["path"],
                status=status or CLIENT_GONE,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
