"""The SQL statements each API read sends, counted in process (the app on the benchmark's
database, called as ASGI: no HTTP client needed; adapters/persistence/statement_count.py):
after one warm-up request (the merchant processes' rows are read once per process), once with
the key looked up and once with its answer cached."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from adapters.persistence.api_tokens import KeyCache
from adapters.persistence.statement_count import StatementCounter
from adapters.settings import Settings
from api.app import create_app
from api.context import ApiContext

HOST = "bench.invalid"


async def _call(app: Any, path: str, key: str) -> tuple[int, bytes]:
    parts = urlsplit(path)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": parts.path, "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(), "root_path": "",
        "headers": [(b"host", HOST.encode()), (b"authorization", f"Token {key}".encode())],
        "client": ("127.0.0.1", 1), "server": (HOST, 80),
    }  # fmt: skip
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return int(answer["status"]), answer["body"]


def count_statements(database_url: str, reads: list[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """{path: (statements with the key cached, statements with its lookup)}."""
    return asyncio.run(_count(database_url, reads))


async def _count(database_url: str, reads: list[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """On one event loop, as in an API worker (its awaited reads' connections, and what they
    prepared, last from one request to the next)."""
    ctx = ApiContext(Settings(database_url=database_url, api_allowed_hosts=(HOST,)))
    app = create_app(ctx)
    counts: dict[str, tuple[int, int]] = {}
    try:
        for path, key in reads:
            await _call(app, path, key)
            ctx.keys = KeyCache()
            with StatementCounter(ctx.engine, ctx.reads, ctx.awaited_reads) as looked_up:
                status, body = await _call(app, path, key)
            with StatementCounter(ctx.engine, ctx.reads, ctx.awaited_reads) as cached:
                await _call(app, path, key)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")
            counts[path] = (cached.count, looked_up.count)
    finally:
        ctx.close()
    return counts
