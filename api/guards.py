"""ASGI guards in front of every endpoint (spec section 11):

- `TrustedHosts`: a request whose `Host` header names no host of `OMS_API_ALLOWED_HOSTS` (a port
  is allowed, as in `localhost:8000`) answers 400 before any handler runs, so a forged Host
  never shapes a link. `/healthz` is exempt: a load balancer's or orchestrator's probe names the
  instance by its address, and the health answer builds no link.
- `BodyLimits`: a body over `MAX_BODY_BYTES` answers 413 (by its Content-Length before reading
  it, or once the bytes read pass the limit), and a JSON body nested deeper than `MAX_DEPTH`
  answers 400, on every endpoint; bodies that are not JSON are left to the endpoint, which says
  so in its own words.

Their answers are `{"detail": ...}` like every other error (api/errors.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest legitimate body is a merchant event naming 1,000 item references of up to 400
# characters (about 0.4 MB); the others are a few hundred bytes.
MAX_BODY_BYTES = 1024 * 1024
# The deepest legitimate body, cargo conditions, is 6 levels; a command's input parameters are
# free-form but shallow.
MAX_DEPTH = 32
HOST_EXEMPT_PATHS = frozenset({"/healthz"})


async def answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is not read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def host_name(header: str | None) -> str | None:
    """The host of a Host header without its port, lower-cased; None when it is malformed.
    `[::1]:8000` → `::1`, `localhost:8000` → `localhost`."""
    if header is None:
        return None
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
    else:
        host, colon, port = value.partition(":")
        rest = colon + port
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    return host or None


def host_allowed(host: str | None, allowed: Iterable[str]) -> bool:
    if host is None:
        return False
    for pattern in allowed:
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
            return True
    return False


class TrustedHosts:
    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed = tuple(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in HOST_EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if not host_allowed(host_name(_header(scope, b"host")), self.allowed):
            await answer(send, 400, "invalid Host header: not one of OMS_API_ALLOWED_HOSTS")
            return
        await self.app(scope, receive, send)


def nesting(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply arrays and objects nest in a decoded JSON value (a scalar is 0, `[]` 1),
    counted without recursion; stops counting past `limit`."""
    if not isinstance(value, dict | list):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        deepest = max(deepest, level)
        if deepest > limit:
            break
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def nesting_problem(body: bytes) -> str | None:
    """Why a body is refused for its nesting, or None. A body that is not JSON is none of this
    guard's business (the endpoint answers it)."""
    try:
        value = json.loads(body)
    except RecursionError:
        return f"body: JSON nested deeper than {MAX_DEPTH} levels"
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return None
    if nesting(value) > MAX_DEPTH:
        return f"body: JSON nested deeper than {MAX_DEPTH} levels"
    return None


class BodyLimits:
    """Reads the whole body (at most MAX_BODY_BYTES) before the endpoint does, checks it, then
    hands it on unchanged."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is None and _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)  # no body (HTTP/1.1: neither header): a GET
            return
        too_big = f"body: larger than {self.max_bytes} bytes"
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await answer(send, 413, too_big)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await answer(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = nesting_problem(body) if body.strip() else None
        if problem is not None:
            await answer(send, 400, problem)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
