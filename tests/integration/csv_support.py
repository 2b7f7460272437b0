"""Stored orders for the CSV import and export tests."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import services
from schemas.convert import parse_inbound_order

ROOT = Path(__file__).resolve().parents[2]
WEB = {"id": 77, "name": "Web store", "channel_type": "web"}


def store(engine: Engine, body: dict[str, Any]) -> None:
    ingested = services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine))
    assert ingested.order_id is not None
    services.split_order(ingested.order_id, SqlUnitOfWork(engine))


def two_merchant_order(
    engine: Engine, merchants: dict[str, str] | None = None, **changes: Any
) -> dict[str, Any]:
    """A stored copy of the example TY-100042 (MER000002: 2 items, MER000005: 1) with a fresh
    number and item ids (and merchants renamed by `merchants`); returns its body."""
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text())
    body["number"] = f"CSV-{uuid.uuid4().hex[:8]}"
    base = uuid.uuid4().int % 10**12
    rename = merchants or {}
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
        item["merchant_reference"] = rename.get(
            item["merchant_reference"], item["merchant_reference"]
        )
    for expense in body.get("expenses", []):
        ref = expense.get("merchant_reference")
        expense["merchant_reference"] = rename.get(ref, ref)
    body.update(changes)
    store(engine, body)
    return body


def item_ref(body: dict[str, Any], index: int) -> str:
    item = body["items"][index]
    return f"{body['number']}--{item['merchant_reference']}--{item['id']}"


def states(engine: Engine, body: dict[str, Any]) -> list[str]:
    items = t.merchant_order_items
    refs = [item_ref(body, i) for i in range(len(body["items"]))]
    with engine.connect() as c:
        found = dict(c.execute(select(items.c.reference, items.c.state)).all())
    return [found[r] for r in refs]


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def oms(capsys: Any, *args: str) -> tuple[int, str, str]:
    """`oms ARGS` in-process: (exit status, stdout, stderr). The environment names the
    database (the caller's fixture sets OMS_DATABASE_URL)."""
    from cli.main import main

    try:
        code = main(list(args))
    except SystemExit as done:  # a one-line refusal (`raise SystemExit("...")`)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
            code = 1
        else:
            code = int(done.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
