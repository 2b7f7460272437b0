"""Orders stored through the domain's own use cases (no workers), for the read endpoints."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from sqlalchemy import Engine

from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import services
from schemas.convert import parse_inbound_order
from tests.api.server import ROOT


def example(number: str | None = None, channel_id: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        (ROOT / "docs/examples/order-two-merchants.json").read_text(encoding="utf-8")
    )
    body["number"] = number or f"API-{uuid.uuid4().hex[:8].upper()}"
    if channel_id is not None:
        body["channel"] = {"id": channel_id, "name": f"Channel {channel_id}", "channel_type": "n11"}
    base = random.randrange(10**11, 10**12)
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
    return body


def store(engine: Engine, body: dict[str, Any]) -> list[int]:
    """Ingest and split; the package ids."""
    ingested = services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine))
    assert ingested.order_id is not None
    split = services.split_order(ingested.order_id, SqlUnitOfWork(engine))
    return [mo.package.id for mo in split.merchant_orders if mo.package.id is not None]


def fresh_channel() -> int:
    return random.randrange(10**6, 10**9)
