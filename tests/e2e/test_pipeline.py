"""End to end on real RabbitMQ + PostgreSQL: the CLI publishes, worker subprocesses consume."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import pika
import pytest
from sqlalchemy import Engine

from adapters.persistence.dead_letters import dead_letters
from cli.generate import generate_orders
from tests import services
from tests.e2e.pipeline import (
    ROOT,
    Pipeline,
    assert_stored_exactly,
    split_count,
    stored_count,
    wait_for,
    write_json_lines,
)

pytestmark = [pytest.mark.services, pytest.mark.e2e]
EXAMPLES = ROOT / "docs" / "examples"


def orders(count: int, tag: str) -> tuple[str, list[dict[str, object]]]:
    prefix = f"{tag}-{uuid.uuid4().hex[:6].upper()}"
    return prefix, generate_orders(
        count, prefix=prefix, seed=random.randrange(10**6),
        first_item_id=random.randrange(10**11, 10**12),
    )  # fmt: skip


def test_published_example_shows_the_spec_totals(pipeline: Pipeline, db: Engine) -> None:
    pipeline.start_workers()
    published = pipeline.run_oms("publish", "orders", str(EXAMPLES / "order-two-merchants.json"))
    assert published.stdout.strip() == "published 1 order to oms.ingest"
    wait_for(lambda: split_count(db, "TY-100042") == 1, 60, "TY-100042 to be split")

    shown = json.loads(pipeline.run_oms("show", "order", "TY-100042", "--json").stdout)
    expected = json.loads((EXAMPLES / "expected-order-two-merchants.json").read_text())
    assert shown["totals"] == expected["order"]
    assert {mo["reference"]: mo["totals"] for mo in shown["merchant_orders"]} == expected[
        "merchant_orders"
    ]
    market = shown["marketplace_expenses"]
    assert {k: market[k] for k in expected["marketplace_expenses"]} == expected[
        "marketplace_expenses"
    ]
    assert [(p["number"], p["status"], p["status_code"]) for p in shown["packages"]] == [
        ("TY-100042--MER000002", "waiting", 100),
        ("TY-100042--MER000005", "waiting", 100),
    ]


def test_three_hundred_orders_published_twice_are_stored_once(
    pipeline: Pipeline, db: Engine, tmp_path: Path
) -> None:
    prefix, bodies = orders(300, "TWICE")
    path = write_json_lines(tmp_path / "orders.jsonl", bodies)
    pipeline.start_workers()
    for _ in range(2):
        assert pipeline.run_oms("publish", "orders", str(path)).stdout.startswith("published 300 ")
    wait_for(lambda: split_count(db, prefix) == 300, 180, "300 orders to be split")
    wait_for(
        lambda: services.queue_depth(pipeline.env["OMS_BROKER_URL"], "oms.ingest") == 0,
        120, "the second copies to be consumed",
    )  # fmt: skip
    assert_stored_exactly(db, prefix, bodies)


INVALID: list[tuple[str, dict[str, object], str]] = [
    ("missing number", {"number": None}, "number"),
    ("unknown status", {"status": "999"}, "status: unknown Omnitron status code"),
    ("unknown currency", {"currency": "xyz"}, "currency: unknown currency"),
    ("too many decimals", {"items.0.price": "10.005"}, "items[0].price: '10.005' has 3 decimals"),
    ("negative money", {"items.0.price": "-1.00"}, "items[0].price: '-1.00' is negative"),
    ("exponent", {"items.0.price": "1e3"}, "items[0].price: '1e3' is not a plain decimal"),
    ("nan", {"items.0.price": "NaN"}, "items[0].price: 'NaN' is not a plain decimal"),
    ("tax above 100", {"items.0.tax_rate": "101"}, "items[0].tax_rate: '101' is above 100"),
    ("quantity 0", {"items.0.quantity": 0}, "items[0].quantity"),
    ("discount too big", {"items.0.discount_amount": "999999.00"}, "items[0].discount_amount"),
    ("no items", {"items": []}, "items"),
    ("date without offset", {"date_placed": "2026-11-21T10:00:00"}, "date_placed"),
    ("amount mismatch", {"amount": "1.00"}, "amount: 1.00 does not equal the computed grand total"),
    ("stray expense merchant",
     {"expenses": [{"type": "shipping", "name": "x", "amount": "1.00", "tax_rate": "20",
                    "merchant_reference": "NOBODY"}]},
     "expenses[0].merchant_reference"),
]  # fmt: skip


def broken(body: dict[str, object], change: dict[str, object]) -> dict[str, object]:
    body = json.loads(json.dumps(body))
    for path, value in change.items():
        if path.startswith("items.0."):
            body["items"][0][path.removeprefix("items.0.")] = value  # type: ignore[index]
        elif path == "expenses":
            body["expenses"] = value
            body.pop("amount", None)
        else:
            body[path] = value
    return body


def test_each_invalid_kind_is_dead_lettered_with_its_reason_and_the_rest_goes_through(
    pipeline: Pipeline, db: Engine, tmp_path: Path
) -> None:
    prefix, bodies = orders(len(INVALID) * 2, "MIXED")
    stream: list[dict[str, object]] = []
    for index, (_, change, _) in enumerate(INVALID):
        bad = broken(bodies[2 * index], change)
        bad["number"] = bad["number"] and f"{bad['number']}-BAD"
        stream += [bad, bodies[2 * index + 1]]
    valid = [bodies[2 * i + 1] for i in range(len(INVALID))]
    pipeline.start_workers()
    pipeline.run_oms("publish", "orders", str(write_json_lines(tmp_path / "mixed.jsonl", stream)))
    # and one that is not even a dramatiq message
    connection = pika.BlockingConnection(pika.URLParameters(pipeline.env["OMS_BROKER_URL"]))
    connection.channel().basic_publish("", "oms.ingest", b"{not json")
    connection.close()

    wait_for(lambda: split_count(db, prefix) == len(valid), 60, "the valid orders")
    reasons = {}

    def all_recorded() -> bool:
        for letter in dead_letters(db, "oms.ingest"):  # other tests' dead letters are there too
            args = letter["message"].get("args") or [None]
            body = args[0]
            if not isinstance(body, dict):
                continue
            if str(body.get("number") or "").startswith(prefix) or body.get("number") is None:
                reasons[json.dumps(body, sort_keys=True)] = letter["reason"]
        return len(reasons) >= len(INVALID)

    wait_for(all_recorded, 60, "every invalid message in the dead-letter record")
    for index, (kind, _, needle) in enumerate(INVALID):
        bad = stream[2 * index]
        reason = reasons[json.dumps(bad, sort_keys=True)]
        assert needle in reason, f"{kind}: {reason}"
    assert stored_count(db, prefix) == len(valid), "no invalid order stored"
    assert_stored_exactly(db, prefix, valid)
    url = pipeline.env["OMS_BROKER_URL"]
    wait_for(
        lambda: services.queue_depth(url, "oms.ingest.XQ") >= len(INVALID) + 1,
        30, "the invalid messages and the undecodable one in oms.ingest.XQ",
    )  # fmt: skip


def test_a_worker_killed_mid_stream_loses_and_doubles_nothing(
    pipeline: Pipeline, db: Engine, tmp_path: Path
) -> None:
    prefix, bodies = orders(400, "KILL")
    path = write_json_lines(tmp_path / "orders.jsonl", bodies)
    pipeline.start_sweeper()
    pipeline.start_workers()
    pipeline.run_oms("publish", "orders", str(path))
    wait_for(lambda: stored_count(db, prefix) >= 100, 60, "the stream to be under way")
    pipeline.kill("workers")  # SIGKILL: no graceful shutdown, open transactions die
    at_kill = split_count(db, prefix)
    assert at_kill < len(bodies), "the kill must land mid-stream"
    pipeline.start_workers()
    wait_for(lambda: split_count(db, prefix) == len(bodies), 180, "all orders after the restart")
    assert_stored_exactly(db, prefix, bodies)


def test_stages_in_separate_worker_groups_as_the_procfile_runs_them(
    pipeline: Pipeline, db: Engine, tmp_path: Path
) -> None:
    """Each stage's group consumes only its own queue: the ingest group publishes to oms.split
    without taking (and dead-lettering) the split requests itself."""
    prefix, bodies = orders(200, "STAGES")
    for stage in ("ingest", "split"):
        pipeline._spawn(stage, [*pipeline.oms, "worker", stage, "--threads", "4"])
    pipeline.run_oms("publish", "orders", str(write_json_lines(tmp_path / "o.jsonl", bodies)))
    wait_for(lambda: split_count(db, prefix) == len(bodies), 90, "every order split")
    assert_stored_exactly(db, prefix, bodies)
    assert dead_letters(db, "oms.split") == []
