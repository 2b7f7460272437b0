"""`oms omnitron-sim`: a real HTTP server that serves Omnitron's endpoints from memory (spec §6),
with fault injection (`POST /sim/faults`) and the request log (`GET /sim/requests`)."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from adapters.omnitron.simulator_state import SimulatorError, SimulatorState

ITEM = re.compile(r"^/api/v1/order_items/(\d+)/$")
ORDER = re.compile(r"^/api/v1/orders/([^/]+)/$")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

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
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        state = self.server.state
        fault = None
        if not parts.path.startswith("/sim/"):
            with state.lock:
                fault = state.next_fault()
        if fault is not None and fault.delay_ms:
            time.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.drop:
            with state.lock:
                state.record(method, parts.path, parts.query, body, 0)
            self.close_connection = True
            self.connection.close()
            return
        if fault is not None and fault.status:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            self._answer(method, parts, body, fault.status, {"detail": "injected"}, headers)
            return
        try:
            with state.lock:
                status, payload = self._route(method, parts.path, parts.query, body)
        except SimulatorError as error:
            status, payload = error.status, {"detail": error.detail}
        self._answer(method, parts, body, status, payload, {})

    def _answer(
        self, method: str, parts: Any, body: Any, status: int, payload: Any, headers: dict[str, str]
    ) -> None:
        if not parts.path.startswith("/sim/"):
            with self.server.state.lock:
                self.server.state.record(
                    method, parts.path, parts.query, body, status, self.headers.get("X-Request-ID")
                )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        state = self.server.state
        if path.startswith("/sim/"):
            return _sim(state, method, path, body)
        if (method, path) == ("POST", "/api/v1/auth/login/"):
            return 200, state.login(body)
        if not state.authorised(self.headers.get("Authorization")):
            return 401, {"detail": "Invalid token."}
        if (method, path) == ("POST", "/api/v1/orders/"):
            return state.register(body)
        if (method, path) == ("GET", "/api/v1/orders/"):
            return 200, self._page(query)
        if method == "GET" and (match := ORDER.match(path)):
            found = state.find([match.group(1)])
            return (200, found[0]) if found else (404, {"detail": "Not found."})
        if (method, path) == ("PATCH", "/api/i1/order_items/bulk_status_update/"):
            state.bulk_update(body)
            return 200, {"detail": "ok"}
        if method == "PATCH" and (match := ITEM.match(path)):
            return 200, state.set_item(int(match.group(1)), body)
        return 404, {"detail": f"no endpoint {method} {path}"}

    def _page(self, query: str) -> dict[str, Any]:
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        numbers = [n for n in params.get("number__in", "").split(",") if n]
        limit = max(1, int(params.get("limit", 50)))
        page = max(1, int(params.get("page", 1)))
        found = (
            self.server.state.find(numbers) if numbers else list(self.server.state.orders.values())
        )
        base = f"{self.server.url}/api/v1/orders/?number__in={','.join(numbers)}&limit={limit}"
        last = (len(found) + limit - 1) // limit
        return {
            "count": len(found),
            "next": f"{base}&page={page + 1}" if page < last else None,
            "previous": f"{base}&page={page - 1}" if page > 1 else None,
            "results": found[(page - 1) * limit : page * limit],
        }


def _sim(state: SimulatorState, method: str, path: str, body: Any) -> tuple[int, Any]:
    if (method, path) == ("POST", "/sim/faults"):
        state.add_fault(body if isinstance(body, dict) else {})
        return 200, {"faults": len(state.faults)}
    if (method, path) == ("DELETE", "/sim/faults"):
        state.faults.clear()
        return 200, {"faults": 0}
    if (method, path) == ("GET", "/sim/requests"):
        return 200, list(state.log)
    if (method, path) == ("DELETE", "/sim/requests"):
        state.log.clear()
        return 200, []
    if (method, path) == ("POST", "/sim/reset"):
        state.reset()
        return 200, {}
    return 404, {"detail": f"no endpoint {method} {path}"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: SimulatorState
    url: str


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
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def register(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            return self.state.register(body)[1]

    def requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.log)


def _bodies(path: str) -> list[Any]:
    text = Path(path).read_text(encoding="utf-8").strip()
    if not text:
        return []
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return document if isinstance(document, list) else [document]


def run_simulator(port: int, username: str, password: str, orders_file: str | None) -> None:
    simulator = OmnitronSimulator(port=port, username=username, password=password)
    for body in _bodies(orders_file) if orders_file else []:
        simulator.register(body)
    print(f"omnitron simulator listening on {simulator.url}", flush=True)
    try:
        simulator.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.server.server_close()
