"""OmnitronClient against answers the simulator never gives, over real HTTP on loopback: a
redirect to a login page (never success, never followed) and malformed bodies (read per order;
not transient)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from adapters.omnitron.client import OmnitronClient
from domain.omnitron import (
    OmnitronItem,
    OmnitronMalformed,
    OmnitronOrder,
    OmnitronRejected,
    OmnitronUnavailable,
)

Answer = tuple[int, dict[str, str], bytes]


class Stub(ThreadingHTTPServer):
    """Answers (method, path) from a table; logs what it served. Login always works."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[tuple[str, str], Answer] = {}
        self.served: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, method: str, path: str, status: int, body: Any, **headers: str) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers[(method, path)] = (status, headers, data)


class _Handler(BaseHTTPRequestHandler):
    server: Stub

    def _any(self) -> None:
        path = self.path.split("?")[0]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.served.append((self.command, path))
        if (self.command, path) == ("POST", "/api/v1/auth/login/"):
            status, headers, data = 200, {}, b'{"key": "t0k3n"}'
        else:
            status, headers, data = self.server.answers.get(
                (self.command, path), (404, {}, b'{"detail": "Not found."}')
            )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _any

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client(stub: Stub) -> OmnitronClient:
    return OmnitronClient(stub.url, "oms", "secret", backoff=0.0, sleep=lambda _: None)


BULK = "/api/i1/order_items/bulk_status_update/"


def test_a_redirected_patch_is_not_success_and_is_not_followed(stub: Stub) -> None:
    location = f"{stub.url}/sso/login/?next=/api/&state=s3cr3t"
    stub.answer("PATCH", BULK, 302, b"", Location=location)
    stub.answer("GET", "/sso/login/", 200, b"<html>Sign in</html>", **{"Content-Type": "text/html"})
    with pytest.raises(OmnitronRejected, match=r"HTTP 302 redirect to .*/sso/login/") as raised:
        client(stub).update_item_statuses({101: "450"})
    assert "s3cr3t" not in str(raised.value)  # the redirect's query is not repeated
    assert ("GET", "/sso/login/") not in stub.served
    assert stub.served.count(("PATCH", BULK)) == 1  # not retried in the call either


def test_a_redirected_read_is_not_an_answer(stub: Stub) -> None:
    stub.answer("GET", "/api/v1/orders/", 301, b"", Location="/elsewhere/")
    stub.answer("GET", "/elsewhere/", 200, {"count": 0, "results": []})
    with pytest.raises(OmnitronRejected, match="HTTP 301"):
        client(stub).orders(["A"])
    assert ("GET", "/elsewhere/") not in stub.served


def test_a_malformed_order_is_marked_and_the_others_are_read(stub: Stub) -> None:
    results: list[Any] = [
        {"number": "A", "status": "500", "items": [{"id": 1, "status": "500"}]},
        {"number": "B", "status": "500", "items": [{"id": "x1", "status": "500"}]},
        {"number": "C", "status": "500", "items": {"id": 3, "status": "500"}},
        {"status": "500", "items": [{"id": 4, "status": "500"}]},  # no number: nobody's
        "not an order",
        {"number": "E", "status": ["500"], "items": []},
        {"number": "F", "items": [{"id": 6, "status": "550"}]},
    ]
    stub.answer("GET", "/api/v1/orders/", 200, {"count": 7, "next": None, "results": results})
    found = {o.number: o for o in client(stub).orders(["A", "B", "C", "D", "E", "F"])}
    assert found["A"] == OmnitronOrder("A", "500", [OmnitronItem(1, "500")])
    assert found["F"] == OmnitronOrder("F", "", [OmnitronItem(6, "550")])
    assert found["B"].problem is not None and "item id is not an integer" in found["B"].problem
    assert found["C"].problem is not None and "'items' is a dict" in found["C"].problem
    assert found["E"].problem is not None and found["E"].items == []
    assert "D" not in found  # its result had no number: unknown this cycle


def test_results_that_are_not_a_list_mark_every_order_asked(stub: Stub) -> None:
    stub.answer("GET", "/api/v1/orders/", 200, {"count": 1, "results": {"number": "A"}})
    found = client(stub).orders(["A", "B"])
    assert sorted(o.number for o in found) == ["A", "B"]
    assert all(o.problem == "'results' is a dict, not a list" for o in found)


def test_a_body_that_is_not_json_is_malformed_not_transient(stub: Stub) -> None:
    stub.answer("GET", "/api/v1/orders/A/", 200, b"<html>maintenance</html>")
    with pytest.raises(OmnitronMalformed, match="not a JSON object") as raised:
        client(stub).get_order("A")
    assert not isinstance(raised.value, OmnitronUnavailable)


def test_get_order_with_a_malformed_body_is_malformed(stub: Stub) -> None:
    stub.answer("GET", "/api/v1/orders/A/", 200, {"number": "A", "items": [{"id": None}]})
    with pytest.raises(OmnitronMalformed, match="item id is not an integer"):
        client(stub).get_order("A")
    stub.answer("GET", "/api/v1/orders/B/", 200, {"number": "B", "items": [{"id": 9}]})
    assert client(stub).get_order("B") == OmnitronOrder("B", "", [OmnitronItem(9, None)])
