"""The Omnitron simulator's memory: orders, tokens, injected faults and the request log. Every
method expects the caller to hold `lock` (one lock for the whole state)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from domain.statuses import OrderStatus
from schemas.convert import parse_inbound_order
from schemas.errors import InvalidMessage

CODES = {str(status.value) for status in OrderStatus}
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
FAULT_KEYS = {"status", "retry_after", "delay_ms", "drop", "count", "expire_tokens"}


class SimulatorError(Exception):
    """A request the simulator refuses: answered with `status` and {"detail": detail}."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass
class Fault:
    status: int | None = None
    retry_after: float | None = None
    delay_ms: int = 0
    drop: bool = False
    count: int = 1


@dataclass
class SimulatorState:
    username: str
    password: str
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    item_order: dict[int, str] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    max_limit: int = MAX_LIMIT  # the largest page a client gets, whatever limit it asks for

    # -- authentication ------------------------------------------------------------------
    def login(self, body: Any) -> dict[str, str]:
        given = (body.get("username"), body.get("password")) if isinstance(body, dict) else None
        if given != (self.username, self.password):
            raise SimulatorError(400, "unable to log in with the provided credentials")
        token = secrets.token_hex(20)
        self.tokens.add(token)
        return {"key": token}

    def authorised(self, header: str | None) -> bool:
        scheme, _, key = (header or "").strip().partition(" ")
        return scheme == "Token" and key.strip() in self.tokens

    # -- orders and items ----------------------------------------------------------------
    def register(self, body: Any) -> tuple[int, dict[str, Any]]:
        """201 and the stored order; 200 and the order stored before when the number is known."""
        try:
            order = parse_inbound_order(body, "MAIN")
        except InvalidMessage as error:
            raise SimulatorError(400, str(error)) from None
        if order.number in self.orders:
            return 200, self.orders[order.number]
        taken = [i.omnitron_id for i in order.items if i.omnitron_id in self.item_order]
        if taken:
            owner = self.item_order[taken[0]]
            raise SimulatorError(400, f"items: item {taken[0]} belongs to order {owner!r}")
        status = str(int(order.status))
        stored: dict[str, Any] = {
            "number": order.number,
            "status": status,
            "items": [{"id": i.omnitron_id, "status": status} for i in order.items],
        }
        self.orders[order.number] = stored
        for item in stored["items"]:
            self.item_order[item["id"]] = order.number
        return 201, stored

    def find(self, numbers: list[str]) -> list[dict[str, Any]]:
        """The known orders among these numbers, in the order asked, each once."""
        return [self.orders[n] for n in dict.fromkeys(numbers) if n in self.orders]

    def page(self, url: str, query: str) -> dict[str, Any]:
        """GET /api/v1/orders/ at `url`: a DRF-style page {"count","next","previous","results"}
        of the orders named in number__in (all orders without it); unknown numbers are absent."""
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        limit = min(_positive(params, "limit", DEFAULT_LIMIT), self.max_limit)
        page = _positive(params, "page", 1)
        base: dict[str, str] = {}
        if "number__in" in params:  # present but empty: no order matches
            numbers = [n for n in params["number__in"].split(",") if n]
            base, found = {"number__in": ",".join(numbers)}, self.find(numbers)
        else:  # every order: copied only here, not at each lookup by number (O(orders) each)
            found = list(self.orders.values())
        last = max(1, (len(found) + limit - 1) // limit)
        if page > last:
            raise SimulatorError(404, f"Invalid page: {page} (there are {last})")

        def link(n: int) -> str:
            return f"{url}?{urlencode({**base, 'limit': limit, 'page': n}, safe=',')}"

        return {
            "count": len(found),
            "next": link(page + 1) if page < last else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": found[(page - 1) * limit : page * limit],
        }

    def item(self, item_id: int) -> dict[str, Any]:
        number = self.item_order.get(item_id)
        if number is None:
            raise SimulatorError(404, f"order item {item_id} does not exist")
        return next(i for i in self.orders[number]["items"] if i["id"] == item_id)

    def bulk_update(self, body: Any) -> None:
        """All or nothing: every entry is checked before any item changes."""
        entries = body.get("orderitem_set") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not entries:
            raise SimulatorError(400, "orderitem_set: a non-empty list of {id, status} is required")
        changes: list[tuple[int, str]] = []
        for index, entry in enumerate(entries):
            where = f"orderitem_set[{index}]"
            if not isinstance(entry, dict):
                raise SimulatorError(400, f"{where}: must be an object with id and status")
            item_id = _item_id(entry.get("id"))
            if item_id is None or item_id not in self.item_order:
                raise SimulatorError(400, f"{where}.id: item {entry.get('id')!r} does not exist")
            changes.append((item_id, _status(f"{where}.status", entry.get("status"))))
        for item_id, status in changes:
            self.item(item_id)["status"] = status

    def set_item(self, item_id: int, body: Any) -> dict[str, Any]:
        item = self.item(item_id)
        item["status"] = _status("status", body.get("status") if isinstance(body, dict) else None)
        return item

    # -- faults and the request log --------------------------------------------------------
    def add_fault(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise SimulatorError(400, "a fault is a JSON object")
        unknown = sorted(set(body) - FAULT_KEYS)
        if unknown:
            raise SimulatorError(
                400, f"unknown fault fields {unknown} (known: {sorted(FAULT_KEYS)})"
            )
        if body.get("expire_tokens"):
            self.tokens.clear()
            return
        fault = Fault(
            status=_whole(body, "status", 400, 599),
            retry_after=_number(body, "retry_after", 0, 86400),
            delay_ms=_whole(body, "delay_ms", 0, 600_000) or 0,
            drop=bool(body.get("drop")),
            count=_whole(body, "count", 1, 10**9) or 1,
        )
        if fault.status is None and not fault.delay_ms and not fault.drop:
            raise SimulatorError(400, "a fault needs status, delay_ms, drop or expire_tokens")
        self.faults.append(fault)

    def next_fault(self) -> Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.count -= 1
        if fault.count <= 0:
            self.faults.pop(0)
        return fault

    def record(
        self,
        method: str,
        path: str,
        query: str,
        body: Any,
        status: int | None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Append one request to the log (in arrival order); the caller sets "status" once it
        is answered (0 when the connection was dropped)."""
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "body": body,
            "status": status,
            "time": time.time(),
            "request_id": request_id,
        }
        self.log.append(entry)
        return entry

    def reset(self) -> None:
        self.orders.clear()
        self.item_order.clear()
        self.tokens.clear()
        self.faults.clear()
        self.log.clear()


def _item_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdecimal() else None


def _status(where: str, value: Any) -> str:
    code = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if code not in CODES:
        known = ", ".join(sorted(CODES, key=int))
        raise SimulatorError(400, f"{where}: unknown status {value!r} (known: {known})")
    return code


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise SimulatorError(400, f"{key}: must be a number from {low} to {high}, got {value!r}")
    return float(value)


def _whole(body: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = _number(body, key, low, high)
    if value is not None and not value.is_integer():
        raise SimulatorError(400, f"{key}: must be a whole number, got {body[key]!r}")
    return None if value is None else int(value)


def _positive(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdecimal() or int(text) < 1:
        raise SimulatorError(400, f"{name}: must be a whole number >= 1, got {text!r}")
    return int(text)
