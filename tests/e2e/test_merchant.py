"""Merchant events end to end (spec 9.3, 9.4): worker subprocesses on real RabbitMQ and
PostgreSQL, the Omnitron simulator over HTTP, the operator's CLI."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine, select

from adapters.messaging.publisher import MERCHANT, publish
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from tests.e2e.pipeline import ROOT, Pipeline, wait_for
from tests.e2e.test_reports import BULK, ingest, omnitron_items, pack, reports_sent

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def example() -> tuple[dict[str, Any], list[int]]:
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text())
    body["number"] = f"ME-{uuid.uuid4().hex[:8].upper()}"
    base = uuid.uuid4().int % 10**11 + 10**11
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
    return body, [base, base + 1, base + 2]


def show(pipeline: Pipeline, number: str) -> dict[str, Any]:
    return json.loads(pipeline.run_oms("show", "order", number, "--json").stdout)  # type: ignore[no-any-return]


def outcomes(db: Engine, message_id: str) -> list[tuple[str, str]]:
    log = t.merchant_transition_log
    with db.connect() as c:
        rows = c.execute(
            select(log.c.item_reference, log.c.outcome).where(log.c.message_id == message_id)
        ).all()
    return [(r.item_reference, r.outcome) for r in rows]


def bulk_updates(omnitron: OmnitronSimulator) -> list[dict[int, str]]:
    return [
        {i["id"]: i["status"] for i in r["body"]["orderitem_set"]}
        for r in omnitron.requests()
        if r["method"] == "PATCH" and r["path"] == BULK and r["status"] == 200
    ]


def test_merchant_events_through_the_queue_poll_channel_and_reports(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    body, (i1, i2, i3) = example()
    number = body["number"]
    mo2, mo5 = f"{number}--MER000002", f"{number}--MER000005"
    pipeline.start_workers()
    ingest(pipeline, db, omnitron, tmp_path, [body], number)

    # 1. the operator cancels 5002 for its merchant and waits for the outcome
    done = pipeline.run_oms(
        "merchant", "event", mo2, "cancel by merchant", "--items", f"{mo2}--{i2}", "--wait"
    )
    assert done.stdout.strip() == (
        f"{mo2}--{i2} cancel by merchant: applied (new -> canceled by merchant)"
    )
    document = show(pipeline, number)
    totals = document["merchant_orders"][0]["totals"]
    assert totals == {
        "subtotal": 15000, "expense_total": 590, "discount_total": 500, "canceled_total": 4500,
        "refund_total": 0, "tax_total": 1765, "grand_total": 10590,
    }  # fmt: skip
    assert document["totals"]["grand_total"] == 31090 == 10590 + 20000 + 500
    assert document["totals"]["canceled_total"] == 4500
    assert document["totals"]["tax_total"] == 5181

    # 2. a foreign merchant's event changes nothing and reads like a missing merchant order
    foreign = str(uuid.uuid4())
    body_of_foreign = {
        "merchant_reference": "MER000002",
        "merchant_order_reference": mo5,
        "event": "cancel by merchant",
    }
    publish(broker, *MERCHANT, body_of_foreign, message_id=foreign)
    wait_for(lambda: outcomes(db, foreign) == [("", "rejected")], 60, "the foreign event")
    assert show(pipeline, number) == document

    # 3. a merchant's ship on a marketplace order is rejected; --wait exits non-zero
    shipped = pipeline.run_oms("merchant", "event", mo5, "ship", "--wait", check=False)
    assert shipped.returncode == 1
    assert "comes from the channel's carrier" in shipped.stdout

    # 4. the channel cancels 5003 in Omnitron and re-sends the order: cancel, source marketplace
    with omnitron.state.lock:
        omnitron.state.item(i3)["status"] = "100"
    resent = copy.deepcopy(body)
    resent["items"][2]["status"] = "100"
    resent.pop("amount")
    pipeline.run_oms("publish", "orders", str(_write(tmp_path / "resent.json", resent)))
    wait_for(
        lambda: show(pipeline, number)["merchant_orders"][1]["states"] == ["canceled"],
        60,
        "the re-sent order's cancellation",
    )
    document = show(pipeline, number)
    assert document["packages"][1]["status"] == "cancelled"
    assert document["totals"]["grand_total"] == 10590 + 500

    # 5. the report stage sent 100 for the merchant's cancellation only: Omnitron announced
    # the channel's itself, so nothing echoes it back (spec 9.4)
    def cancel_reports() -> list[dict[int, str]]:
        return [u for u in bulk_updates(omnitron) if "100" in u.values()]

    wait_for(lambda: len(cancel_reports()) == 1, 60, "the merchant's cancellation report")
    assert cancel_reports() == [{i2: "100"}]
    assert omnitron_items(omnitron, [body]) == {i1: "400", i2: "100", i3: "100"}

    # 6. packing MO2 reports 450 for its live item only; the cancelled package is not packed
    ids = [p["id"] for p in document["packages"]]
    pack(broker, ids)
    wait_for(lambda: reports_sent(db, ids[:1]) >= 2, 60, "the 450 report")
    assert {i1: "450"} in bulk_updates(omnitron)
    assert all(i3 not in u or u[i3] == "100" for u in bulk_updates(omnitron))

    # 7. the carrier delivers 5001: the poll moves the package and fires ship, deliver
    with omnitron.state.lock:
        omnitron.state.item(i1)["status"] = "550"
    pipeline.run_oms("poll", "run")
    wait_for(
        lambda: (
            show(pipeline, number)["merchant_orders"][0]["states"]
            == ["canceled by merchant", "delivered"]
        ),
        60,
        "the poll's ship and deliver",
    )
    document = show(pipeline, number)
    assert [p["status"] for p in document["packages"]] == ["delivered", "cancelled"]
    assert document["items"][0]["status_code"] == 550
    assert document["items"][1]["status_code"] == 100  # the cancelled line stays cancelled
    with db.connect() as c:
        log = t.merchant_transition_log
        poll_events = c.execute(
            select(log.c.event).where(
                log.c.item_reference == f"{mo2}--{i1}", log.c.source == "poll"
            )
        ).scalars()
        assert sorted(poll_events) == ["deliver", "ship"]


def _write(path: Path, body: dict[str, Any]) -> Path:
    path.write_text(json.dumps(body))
    return path
