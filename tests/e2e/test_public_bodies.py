"""Bad public bodies end to end, through the worker subprocesses on the real RabbitMQ and
PostgreSQL (issue 21, items 12 and 13): each ends in the dead letters on its first delivery
with a reason naming the field and the rule, is never retried, and changes nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine

from adapters.messaging.publisher import INGEST, MERCHANT, PACKAGING, publish
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence.dead_letters import dead_letters
from tests import services
from tests.e2e.pipeline import ROOT, Pipeline, stored_count, wait_for
from tests.e2e.test_merchant import example, outcomes, show
from tests.e2e.test_reports import ingest

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def letters(db: Engine, ids: set[str]) -> dict[str, dict[str, Any]]:
    return {d["message_id"]: d for d in dead_letters(db) if d["message_id"] in ids}


def first_delivery_dead_letters(
    db: Engine, url: str, sent: dict[str, tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """Wait for every sent message id's dead letter; check it was the first attempt and that
    its reason names (path, rule)."""
    wait_for(lambda: len(letters(db, set(sent))) == len(sent), 60, "every dead letter")
    found = letters(db, set(sent))
    for message_id, (queue, needle) in sent.items():
        letter = found[message_id]
        assert letter["queue_name"] == queue
        assert needle in letter["reason"], (needle, letter["reason"])
        assert letter["reason"].startswith("invalid message: ")
        assert letter["failures"] == 1
        assert letter["message"]["options"].get("retries", 0) == 0, "attempt 1, no retry"
    for queue in {queue for queue, _ in sent.values()}:
        assert services.queue_depth(url, f"{queue}.DQ") == 0, f"{queue}: a retry is waiting"
    return found


def test_nul_control_characters_and_lone_surrogates_are_dead_lettered_on_first_delivery(
    pipeline: Pipeline, db: Engine, broker: dramatiq.Broker
) -> None:
    order = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text())
    prefix = f"BAD-{uuid.uuid4().hex[:6].upper()}"
    event = {
        "merchant_reference": "MER000002",
        "merchant_order_reference": f"{prefix}--MER000002",
        "event": "cancel by merchant",
    }

    def inbound(n: int, **change: Any) -> dict[str, Any]:
        body = json.loads(json.dumps(order)) | {"number": f"{prefix}-{n}"}
        for item in body["items"]:
            item["id"] += uuid.uuid4().int % 10**11
        return body | change

    surrogate = inbound(3)
    surrogate["items"][0]["product"]["name"] = "Kettle \ud800"
    bodies: list[tuple[tuple[str, str], Any, str]] = [
        (MERCHANT, event | {"event": "cancel by merchant\x00"}, "event: must not contain a NUL"),
        (
            MERCHANT,
            event | {"merchant_order_reference": f"{prefix}\x00--MER000002"},
            "merchant_order_reference: must not contain a NUL",
        ),
        (
            MERCHANT,
            event | {"item_references": [f"{prefix}--MER000002--1\x00"]},
            "item_references[0]: must not contain a NUL",
        ),
        (MERCHANT, event | {"event": "ship\x1b"}, "event: must not contain a control character"),
        (
            INGEST,
            inbound(1, customer={"first_name": "Ay\x00se"}),
            "customer.first_name: must not contain a NUL character (at position 2)",
        ),
        (
            INGEST,
            inbound(2, shipping_address={"line": "x\udc00"}),
            "shipping_address.line: must not contain a lone surrogate (U+DC00",
        ),
        (INGEST, surrogate, "items[0].product.name: must not contain a lone surrogate (U+D800"),
        (INGEST, inbound(4) | {"number": f"{prefix}-4\x00"}, "number: must not contain a NUL"),
        (INGEST, inbound(5) | {"number": f"{prefix}-5-"}, "number: must not start or end with"),
        (
            PACKAGING,
            {"package_number": f"{prefix}--MER000002", "slug": "SHIP\x85"},
            "slug: must not contain a control character (U+0085",
        ),
    ]
    pipeline.start_workers()
    sent = {}
    for (queue, actor), body, needle in bodies:
        sent[publish(broker, queue, actor, body)] = (queue, needle)
    found = first_delivery_dead_letters(db, pipeline.env["OMS_BROKER_URL"], sent)
    assert stored_count(db, prefix) == 0
    numbers = {found[m]["order_number"] for m, (queue, _) in sent.items() if queue == INGEST[0]}
    # a NUL in the number is recorded escaped: the operator still finds the letter by it
    expected = {f"{prefix}-1", f"{prefix}-2", f"{prefix}-3", f"{prefix}-5-", f"{prefix}-4\\x00"}
    assert numbers == expected


def test_a_merchant_event_id_used_again_for_another_body_is_dead_lettered(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    body, (i1, i2, _) = example()
    number = body["number"]
    mo2 = f"{number}--MER000002"
    pipeline.start_workers()
    ingest(pipeline, db, omnitron, tmp_path, [body], number)
    event = {"merchant_reference": "MER000002", "merchant_order_reference": mo2,
             "event": "cancel by merchant"}  # fmt: skip
    message_id = str(uuid.uuid4())
    publish(broker, *MERCHANT, event | {"item_references": [f"{mo2}--{i2}"]}, message_id)
    wait_for(lambda: outcomes(db, message_id) != [], 60, "the first event's outcome")
    assert outcomes(db, message_id) == [(f"{mo2}--{i2}", "applied")]
    before = show(pipeline, number)

    publish(broker, *MERCHANT, event | {"item_references": [f"{mo2}--{i1}"]}, message_id)
    reason = f"message id {message_id} was used before for another body"
    sent = {message_id: ("oms.merchant", reason)}
    first_delivery_dead_letters(db, pipeline.env["OMS_BROKER_URL"], sent)
    assert outcomes(db, message_id) == [(f"{mo2}--{i2}", "applied")]
    assert show(pipeline, number) == before, "the second body changed nothing"
