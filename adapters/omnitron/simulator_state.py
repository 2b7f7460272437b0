"""The Omnitron simulator's memory: orders, tokens, injected faults and the request log."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from domain.statuses import OrderStatus
from schemas.convert import parse_inbound_order
from schemas.errors import InvalidMessage

CODES = {str(status.value) for status in OrderStatus}


class SimulatorError(Exception):
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

    def login(self, body: Any) -> dict[str, str]:
        if not isinstance(body, dict) or (body.get("username"), body.get("password")) != (
            self.username,
            self.password,
        ):
            raise SimulatorError(400, "unable to log in with the provided credentials")
        token = secrets.token_hex(20)
        self.tokens.add(token)
        return {"key": token}

    def authorised(self, header: str | None) -> bool:
        return bool(header) and header.removeprefix("Token ").strip() in self.tokens  # type: ignore[union-attr]

    def register(self, body: Any) -> tuple[int, dict[str, Any]]:
        try:
            order = parse_inbound_order(body, "MAIN")
        except InvalidMessage as error:
            raise SimulatorError(400, str(error)) from None
        if order.number in self.orders:
            return 200, self.orders[order.number]
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
        return [self.orders[n] for n in numbers if n in self.orders]

    def item(self, item_id: int) -> dict[str, Any]:
        number = self.item_order.get(item_id)
        if number is None:
            raise SimulatorError(404, f"order item {item_id} does not exist")
        return next(i for i in self.orders[number]["items"] if i["id"] == item_id)

    def bulk_update(self, body: Any) -> None:
        items = body.get("orderitem_set") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise SimulatorError(400, "orderitem_set: a non-empty list of {id, status} is required")
        for entry in items:
            if entry.get("id") not in self.item_order:
                raise SimulatorError(400, f"orderitem_set: item {entry.get('id')!r} does not exist")
            if str(entry.get("status")) not in CODES:
                raise SimulatorError(400, f"orderitem_set: unknown status {entry.get('status')!r}")
        for entry in items:
            self.item(entry["id"])["status"] = str(entry["status"])

    def set_item(self, item_id: int, body: Any) -> dict[str, Any]:
        status = str(body.get("status")) if isinstance(body, dict) else ""
        if status not in CODES:
            raise SimulatorError(400, f"status: unknown status {status!r}")
        item = self.item(item_id)
        item["status"] = status
        return item

    def add_fault(self, body: dict[str, Any]) -> None:
        if body.get("expire_tokens"):
            self.tokens.clear()
            return
        self.faults.append(
            Fault(
                status=body.get("status"),
                retry_after=body.get("retry_after"),
                delay_ms=int(body.get("delay_ms", 0)),
                drop=bool(body.get("drop")),
                count=int(body.get("count", 1)),
            )
        )

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
        status: int,
        request_id: str | None = None,
    ) -> None:
        self.log.append(
            {
                "method": method,
                "path": path,
                "query": query,
                "body": body,
                "status": status,
                "time": time.time(),
                "request_id": request_id,
            }
        )

    def reset(self) -> None:
        self.orders.clear()
        self.item_order.clear()
        self.tokens.clear()
        self.faults.clear()
        self.log.clear()
