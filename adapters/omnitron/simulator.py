"""`oms omnitron-sim`: a real HTTP server that serves Omnitron's endpoints from memory (spec §6),
with fault injection (`POST /sim/faults`) and the request log (`GET /sim/requests`). Stdlib only;
one lock guards the whole state; quiet (no per-request lines on stderr)."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from adapters.omnitron.simulator_state import Fault, SimulatorError, SimulatorState

LOGIN = "/api/v1/auth/login/"
ORDERS = "/api/v1/orders/"
BULK = "/api/i1/order_items/bulk_status_update/"
ITEM = re.compile(r"^/api/v1/order_items/(\d+)/$")
ORDER = re.compile(r"^/api/v1/orders/([^/]+)/$")
_NOT_JSON = object()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms ACK waits

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query, state = parts.path, parts.query, self.server.state
        body = self._body()
        if path.startswith("/sim/"):
            with state.lock:
                status, data = self._respond(lambda: _sim(state, method, path, body))
            self._send(status, data)
            return
        logged = None if body is _NOT_JSON else _without_password(path, body)
        with state.lock:
            fault = state.next_fault()
            entry = state.record(
                method, path, query, logged, None, self.headers.get("X-Request-ID")
            )
        if fault is not None and fault.delay_ms:
            time.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.drop:
            with state.lock:
                entry["status"] = 0
            self._drop()
            return
        headers: dict[str, str] = {}
        with state.lock:
            if fault is not None and fault.status:
                status, data = fault.status, json.dumps({"detail": "injected fault"}).encode()
                headers = _retry_after(fault)
            else:
                status, data = self._respond(lambda: self._route(method, path, query, body))
            entry["status"] = status
        self._send(status, data, headers)

    def _body(self) -> Any:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length, self.close_connection = 0, True
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            return json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _NOT_JSON

    def _respond(self, answer: Callable[[], tuple[int, Any]]) -> tuple[int, bytes]:
        """Run one route under the lock; the payload is encoded before the lock is let go."""
        try:
            status, payload = answer()
        except SimulatorError as error:
            status, payload = error.status, {"detail": error.detail}
        except Exception as error:  # a simulator bug must still answer, not hang the client
            status, payload = 500, {"detail": f"simulator error: {type(error).__name__}: {error}"}
        return status, json.dumps(payload).encode()

    def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (read timeout) and closed the connection
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection without an answer: the client sees a connection error."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _route(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        state = self.server.state
        if body is _NOT_JSON:
            raise SimulatorError(400, "the body is not valid JSON")
        if (method, path) == ("POST", LOGIN):
            return 200, state.login(body)
        if not state.authorised(self.headers.get("Authorization")):
            return 401, {"detail": "Invalid token."}
        if (method, path) == ("POST", ORDERS):
            return state.register(body)
        if (method, path) == ("GET", ORDERS):
            return 200, state.page(self.server.url + ORDERS, query)
        if method == "GET" and (match := ORDER.match(path)):
            found = state.find([unquote(match.group(1))])
            return (200, found[0]) if found else (404, {"detail": "Not found."})
        if (method, path) == ("PATCH", BULK):
            state.bulk_update(body)
            return 200, {"detail": "ok"}
        if method == "PATCH" and (match := ITEM.match(path)):
            return 200, state.set_item(int(match.group(1)), body)
        return 404, {"detail": f"no endpoint {method} {path}"}


def _sim(state: SimulatorState, method: str, path: str, body: Any) -> tuple[int, Any]:
    if body is _NOT_JSON:
        raise SimulatorError(400, "the body is not valid JSON")
    if (method, path) == ("POST", "/sim/faults"):
        state.add_fault(body)
        return 200, {"faults": len(state.faults)}
    if (method, path) == ("DELETE", "/sim/faults"):
        state.faults.clear()
        return 200, {"faults": 0}
    if (method, path) == ("GET", "/sim/requests"):
        return 200, state.log
    if (method, path) == ("DELETE", "/sim/requests"):
        state.log.clear()
        return 200, []
    if (method, path) == ("POST", "/sim/reset"):
        state.reset()
        return 200, {}
    return 404, {"detail": f"no endpoint {method} {path}"}


def _without_password(path: str, body: Any) -> Any:
    """The request log never keeps the login password."""
    if path == LOGIN and isinstance(body, dict) and "password" in body:
        return {**body, "password": "***"}
    return body


def _retry_after(fault: Fault) -> dict[str, str]:
    return {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many workers connecting at once must not wait for SYN retries
    state: SimulatorState
    url: str

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client that went away is no news
            super().handle_error(request, client_address)


class OmnitronSimulator:
    """The simulator in a background thread (tests, the demo) or in the foreground (CLI)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, username: str = "oms", password: str = "oms"
    ):
        self.state = SimulatorState(username, password)
        self.server = _Server((host, port), _Handler)
        self.server.state = self.state
        self.server.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns quickly
            name="omnitron-simulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> OmnitronSimulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def register(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            return self.state.register(body)[1]

    def requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(entry) for entry in self.state.log]


def read_orders(path: str) -> list[Any]:
    """Order bodies from a file: one JSON object, a JSON array, or JSON lines."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.strip():
        return []
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        pass
    else:
        return document if isinstance(document, list) else [document]
    bodies = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                bodies.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: line {number} is not JSON: {error.msg}") from None
    return bodies


def run_simulator(port: int, username: str, password: str, orders_file: str | None) -> None:
    """Preload the orders, print where it listens, serve on loopback until interrupted."""
    simulator = OmnitronSimulator(port=port, username=username, password=password)
    try:
        for index, body in enumerate(read_orders(orders_file) if orders_file else []):
            try:
                simulator.register(body)
            except SimulatorError as error:
                raise ValueError(f"{orders_file}: order {index + 1}: {error.detail}") from None
        print(f"omnitron simulator listening on {simulator.url}", flush=True)
        simulator.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.server.server_close()
