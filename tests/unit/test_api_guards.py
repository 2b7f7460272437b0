"""The API's guards and access log as ASGI layers around a stand-in app (issue 21, items 3 and
4): the Host header against OMS_API_ALLOWED_HOSTS, the body's size and nesting, and the access
log line for refused requests and for handlers that raised."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import structlog
from starlette.types import Message, Receive, Scope, Send
from structlog.testing import capture_logs

from adapters.settings import SettingsError, allowed_hosts, public_url
from api.access_log import AccessLog
from api.guards import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    BodyLimits,
    TrustedHosts,
    host_allowed,
    host_name,
    nesting,
)

DEFAULT = ("127.0.0.1", "localhost")


class Echo:
    """Answers 200 with the body it read; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def call(
    app: Any, path: str = "/api/v1/orders/", *, host: str | None = "localhost:8000",
    chunks: tuple[bytes, ...] = (b"",), headers: tuple[tuple[bytes, bytes], ...] = (),
) -> tuple[int, bytes]:  # fmt: skip
    scope_headers = [*headers, *([(b"host", host.encode())] if host is not None else [])]
    if any(chunks) and not any(name == b"content-length" for name, _ in headers):
        scope_headers.append((b"transfer-encoding", b"chunked"))  # as a server reports a body
    scope = {"type": "http", "method": "POST", "path": path, "headers": scope_headers}
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("localhost", "localhost"),
        ("localhost:8000", "localhost"),
        ("LocalHost:8000", "localhost"),
        ("127.0.0.1:8000", "127.0.0.1"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("evil.example:666", "evil.example"),
        ("localhost:80x", None),
        ("localhost:", None),
        ("::1", None),
        ("[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_host_header_is_read_without_its_port(header: str | None, host: str | None) -> None:
    assert host_name(header) == host


def test_allowed_hosts_match_names_subdomains_and_any() -> None:
    assert host_allowed("localhost", DEFAULT)
    assert not host_allowed("evil.example", DEFAULT)
    assert not host_allowed(None, DEFAULT)
    assert host_allowed("api.example.com", ("*.example.com",))
    assert not host_allowed("example.com", ("*.example.com",))
    assert not host_allowed("evilexample.com", ("*.example.com",))
    assert host_allowed("anything", ("*",))


def test_a_forged_host_is_refused_before_the_endpoint() -> None:
    app = Echo()
    guarded = TrustedHosts(app, DEFAULT)
    status, body = call(guarded, host="evil.example:666")
    assert status == 400
    assert json.loads(body) == {"detail": "invalid Host header: not one of OMS_API_ALLOWED_HOSTS"}
    assert call(guarded, host=None)[0] == 400, "no Host header at all"
    assert app.calls == 0
    assert call(guarded, host="localhost:8000")[0] == 200
    assert call(guarded, host="127.0.0.1:49152")[0] == 200
    assert app.calls == 2


def test_healthz_answers_whatever_the_host() -> None:
    """A load balancer's probe names the instance by its address; /healthz builds no link."""
    guarded = TrustedHosts(Echo(), DEFAULT)
    assert call(guarded, "/healthz", host="10.0.3.7:8000")[0] == 200
    assert call(guarded, "/healthz/", host="10.0.3.7:8000")[0] == 400, "only that path"


def test_settings_read_allowed_hosts_and_the_public_url() -> None:
    assert allowed_hosts("V", None) == DEFAULT
    assert allowed_hosts("V", " ") == DEFAULT
    assert allowed_hosts("V", "API.example.com, localhost,[::1],*.shop.example") == (
        "api.example.com", "localhost", "::1", "*.shop.example",
    )  # fmt: skip
    for bad in ("localhost:8000", "http://x", "a b", "127.0.0.1:80"):
        with pytest.raises(SettingsError, match="V lists host names without ports"):
            allowed_hosts("V", bad)
    assert public_url("V", None) is None
    assert public_url("V", "https://oms.example.com/") == "https://oms.example.com"
    assert public_url("V", "http://example.com:8080/oms/") == "http://example.com:8080/oms"
    for bad in ("oms.example.com", "ftp://x", "https://", "https://x/?a=1", "https://u:p@x"):
        with pytest.raises(SettingsError, match="V must be an http"):
            public_url("V", bad)


def test_nesting_is_counted_without_recursion() -> None:
    assert nesting(1) == 0
    assert nesting([]) == 1
    assert nesting({"a": [1, {"b": []}]}) == 4
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting(deep) == MAX_DEPTH + 1, "stops counting past the limit"


def test_deep_json_is_400_and_never_reaches_the_endpoint() -> None:
    app = Echo()
    guarded = BodyLimits(app)
    for depth in (MAX_DEPTH + 1, 900, 100_000):
        status, body = call(guarded, chunks=(b"[" * depth + b"]" * depth,))
        assert status == 400, depth
        assert json.loads(body) == {"detail": f"body: JSON nested deeper than {MAX_DEPTH} levels"}
    assert app.calls == 0
    fine = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert call(guarded, chunks=(fine[:5], fine[5:])) == (200, fine), "handed on unchanged"
    assert call(guarded, chunks=(b"{not json",)) == (200, b"{not json"), "the endpoint's call"


def test_a_request_without_a_body_is_passed_on_untouched() -> None:
    """HTTP/1.1: neither Content-Length nor Transfer-Encoding means no body (a GET): nothing to
    read or check, the endpoint gets the server's own receive."""
    received: list[Receive] = []

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        received.append(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    assert call(BodyLimits(endpoint))[0] == 200
    assert received[0].__name__ == "receive"  # not the guard's replay


def test_oversized_bodies_are_413_declared_or_streamed() -> None:
    app = Echo()
    guarded = BodyLimits(app)
    declared = ((b"content-length", str(MAX_BODY_BYTES + 1).encode()),)
    assert call(guarded, headers=declared)[0] == 413, "refused by its Content-Length"
    half = b"x" * (MAX_BODY_BYTES // 2 + 1)
    status, body = call(guarded, chunks=(half, half))  # chunked: no Content-Length
    assert status == 413
    assert json.loads(body) == {"detail": f"body: larger than {MAX_BODY_BYTES} bytes"}
    assert app.calls == 0
    assert call(guarded, chunks=(b"x" * MAX_BODY_BYTES,))[0] == 200


def test_the_access_log_above_info_wraps_nothing() -> None:
    """OMS_LOG_LEVEL=WARNING: no line to write, so the answer goes out through the server's own
    send, not the log's wrapper."""
    used: list[Send] = []

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        used.append(send)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    assert call(AccessLog(endpoint))[0] == 200
    assert used[0].__name__ == "send"
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    call(AccessLog(endpoint))
    assert used[1].__name__ == "sending"


def test_the_access_log_records_refusals_and_handlers_that_raised() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    with capture_logs() as logs:
        assert call(AccessLog(TrustedHosts(Echo(), DEFAULT)), host="evil.example")[0] == 400
        with pytest.raises(RecursionError):
            call(AccessLog(broken))
    lines = [(line["event"], line["path"], line["status"]) for line in logs]
    assert lines == [
        ("api.request", "/api/v1/orders/", 400),
        ("api.request", "/api/v1/orders/", 500),
    ]
