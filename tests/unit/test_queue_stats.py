"""`oms queues` never sends an amqps broker's credentials over plain HTTP (issue 8, item 15)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adapters.messaging.queue_stats import from_management, management_url


class Recorder(BaseHTTPRequestHandler):
    seen: list[str | None] = []

    def do_GET(self) -> None:
        Recorder.seen.append(self.headers.get("Authorization"))
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_http() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_default_management_address_follows_the_broker_scheme() -> None:
    assert management_url("amqps://oms:s3cret@rabbit.example:5671/%2F", None) == (
        "https://rabbit.example:15671"
    )
    assert management_url("amqp://guest:guest@rabbit.example/%2F", None) == (
        "http://rabbit.example:15672"
    )


def test_amqps_credentials_are_not_sent_to_a_plain_http_management_port(plain_http: str) -> None:
    assert from_management("amqps://oms:s3cret@127.0.0.1:5671/%2F", plain_http) is None
    assert Recorder.seen == [], "the broker's password went out as plain-HTTP basic auth"


def test_amqp_credentials_still_go_to_the_http_management_port(plain_http: str) -> None:
    rows = from_management("amqp://guest:guest@127.0.0.1:5672/%2F", plain_http)
    assert rows is not None and rows[0]["queue"] == "oms.ingest"
    assert len(Recorder.seen) == 1 and (Recorder.seen[0] or "").startswith("Basic ")
