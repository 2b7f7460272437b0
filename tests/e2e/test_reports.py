"""Packaging commands and "preparing" reports end to end: real RabbitMQ, PostgreSQL, worker
subprocesses and the Omnitron simulator, with the faults of issue 3 (a)-(e)."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import requests
from sqlalchemy import Engine, func, select

from adapters.messaging.publisher import PACKAGING, publish
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.dead_letters import dead_letters
from cli.generate import generate_orders
from cli.package import command_body
from tests.e2e.pipeline import Pipeline, split_count, wait_for, write_json_lines

pytestmark = [pytest.mark.services, pytest.mark.e2e]
BULK = "/api/i1/order_items/bulk_status_update/"


def marketplace_orders(count: int) -> tuple[str, list[dict[str, Any]]]:
    prefix = f"REP-{uuid.uuid4().hex[:6].upper()}"
    bodies = generate_orders(
        count * 2,
        prefix=prefix,
        seed=random.randrange(10**6),
        first_item_id=random.randrange(10**11, 10**12),
    )
    bodies = [b for b in bodies if b["channel"]["channel_type"] != "web"][:count]  # type: ignore[index]
    return prefix, bodies


def ingest(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    tmp_path: Path,
    bodies: list[dict[str, Any]],
    prefix: str,
    register: bool = True,
) -> None:
    for body in bodies if register else []:
        omnitron.register(body)
    pipeline.run_oms("publish", "orders", str(write_json_lines(tmp_path / "o.jsonl", bodies)))
    wait_for(lambda: split_count(db, prefix) == len(bodies), 90, "the orders to be split")


def package_ids(db: Engine, prefix: str) -> list[int]:
    with db.connect() as c:
        query = select(t.packages.c.id).where(t.packages.c.number.startswith(prefix))
        return list(c.execute(query.order_by(t.packages.c.id)).scalars())


def pack(broker: dramatiq.Broker, ids: list[int]) -> None:
    for package_id in ids:
        body = command_body(str(package_id), "CHANNEL_BASED_COMPLETE_PACKAGING")
        publish(broker, *PACKAGING, body)


def reports_sent(db: Engine, ids: list[int]) -> int:
    with db.connect() as c:
        return c.execute(
            select(func.count()).where(
                t.status_reports.c.package_id.in_(ids), t.status_reports.c.sent_at.is_not(None)
            )
        ).scalar_one()


def packed_items(db: Engine, ids: list[int]) -> set[int]:
    with db.connect() as c:
        return set(
            c.execute(
                select(t.order_items.c.omnitron_id)
                .join(t.package_items, t.package_items.c.order_item_id == t.order_items.c.id)
                .where(t.package_items.c.package_id.in_(ids), t.package_items.c.status == 500)
            ).scalars()
        )


def omnitron_items(omnitron: OmnitronSimulator, bodies: list[dict[str, Any]]) -> dict[int, str]:
    session = requests.Session()
    login = {"username": "oms", "password": "oms"}
    key = session.post(f"{omnitron.url}/api/v1/auth/login/", json=login, timeout=5).json()["key"]
    session.headers["Authorization"] = f"Token {key}"
    statuses = {}
    for body in bodies:
        order = session.get(f"{omnitron.url}/api/v1/orders/{body['number']}/", timeout=5)
        if order.status_code == 404:
            continue
        for item in order.json()["items"]:
            statuses[item["id"]] = item["status"]
    return statuses


def assert_reported_exactly(
    omnitron: OmnitronSimulator, db: Engine, ids: list[int], bodies: list[dict[str, Any]]
) -> None:
    """450 on exactly the packed items, and no two reports of a package that differ."""
    packed = packed_items(db, ids)
    statuses = omnitron_items(omnitron, bodies)
    assert {i for i, s in statuses.items() if s == "450"} == packed
    bodies_by_items: dict[frozenset[int], set[str]] = defaultdict(set)
    for request in omnitron.requests():
        if request["method"] == "PATCH" and request["path"] == BULK and request["status"] == 200:
            items = request["body"]["orderitem_set"]
            bodies_by_items[frozenset(i["id"] for i in items)].add(json.dumps(items))
    assert all(len(variants) == 1 for variants in bodies_by_items.values())


def run_with_fault(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
    fault_spec: dict[str, Any] | None,
    count: int = 3,
) -> tuple[list[int], list[dict[str, Any]]]:
    prefix, bodies = marketplace_orders(count)
    pipeline.start_workers()
    ingest(pipeline, db, omnitron, tmp_path, bodies, prefix)
    ids = package_ids(db, prefix)
    if fault_spec is not None:
        fault(omnitron, fault_spec)
    pack(broker, ids)
    wait_for(lambda: reports_sent(db, ids) == len(ids), 120, "every report to be accepted")
    assert_reported_exactly(omnitron, db, ids, bodies)
    return ids, bodies


def fault(omnitron: OmnitronSimulator, spec: dict[str, Any]) -> None:
    requests.post(f"{omnitron.url}/sim/faults", json=spec, timeout=5).raise_for_status()


def test_a_503_outage_longer_than_the_first_retries(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    run_with_fault(pipeline, db, omnitron, broker, tmp_path, {"status": 503, "count": 12})
    assert sum(r["status"] == 503 for r in omnitron.requests()) == 12


def test_b_429_with_retry_after_is_honoured(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    run_with_fault(
        pipeline, db, omnitron, broker, tmp_path, {"status": 429, "count": 2, "retry_after": 1}
    )
    throttled = [r for r in omnitron.requests() if r["status"] == 429]
    assert len(throttled) == 2


def test_d_an_expired_token_is_renewed_once(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    run_with_fault(pipeline, db, omnitron, broker, tmp_path, {"expire_tokens": True})


def test_c_report_worker_killed_mid_batch(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    prefix, bodies = marketplace_orders(30)  # about 45 packages: the kill lands among them
    pipeline.start_workers()
    ingest(pipeline, db, omnitron, tmp_path, bodies, prefix)
    ids = package_ids(db, prefix)
    fault(omnitron, {"delay_ms": 150, "count": 10_000})  # slow Omnitron: the kill lands mid-batch
    pack(broker, ids)
    wait_for(lambda: reports_sent(db, ids) >= 5, 60, "some reports to go out")
    pipeline.kill("workers")
    assert reports_sent(db, ids) < len(ids), "the kill must land mid-batch"
    pipeline.start_sweeper()
    pipeline.start_workers()
    wait_for(lambda: reports_sent(db, ids) == len(ids), 180, "every report after the restart")
    assert_reported_exactly(omnitron, db, ids, bodies)


def test_e_a_400_dead_letters_that_report_and_the_others_go_through(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    prefix, bodies = marketplace_orders(4)
    unknown = bodies[0]  # Omnitron never heard of this order: its items are unknown there
    pipeline.start_workers()
    for body in bodies[1:]:
        omnitron.register(body)
    ingest(pipeline, db, omnitron, tmp_path, bodies, prefix, register=False)
    ids = package_ids(db, prefix)
    pack(broker, ids)
    with db.connect() as c:
        doomed = set(
            c.execute(
                select(t.packages.c.id).where(
                    t.packages.c.number.startswith(str(unknown["number"]) + "--")
                )
            ).scalars()
        )
    good = [i for i in ids if i not in doomed]
    wait_for(lambda: reports_sent(db, good) == len(good), 90, "the other reports")

    def reasons() -> list[str]:
        return [d["reason"] for d in dead_letters(db, "oms.report")]

    wait_for(lambda: len(reasons()) >= len(doomed), 60, "the rejected report's dead letter")
    assert any("400" in reason for reason in reasons()), reasons()
    assert all(r.startswith("refused by Omnitron") for r in reasons() if "400" in r), reasons()
    assert reports_sent(db, list(doomed)) == 0
    assert_reported_exactly(omnitron, db, good, bodies[1:])


def test_a_dead_letter_replayed_after_its_cause_is_fixed_completes_once(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    prefix, bodies = marketplace_orders(2)
    unknown = bodies[0]
    pipeline.start_workers()
    omnitron.register(bodies[1])
    ingest(pipeline, db, omnitron, tmp_path, bodies, prefix, register=False)
    doomed = package_ids(db, str(unknown["number"]) + "--")
    pack(broker, doomed)

    def letters() -> list[dict[str, Any]]:
        return [d for d in dead_letters(db, "oms.report") if d["replayed_at"] is None]

    wait_for(lambda: len(letters()) >= len(doomed), 60, "the report's dead letter")
    omnitron.register(unknown)  # the cause: Omnitron did not know the order. Fixed.
    replayed = pipeline.run_oms("dlq", "replay", "oms.report", "--all")
    assert "replayed to oms.report" in replayed.stdout
    wait_for(lambda: reports_sent(db, doomed) == len(doomed), 60, "the replayed report")
    ok = [r for r in omnitron.requests() if r["path"] == BULK and r["status"] == 200]
    again = [str(d["id"]) for d in dead_letters(db, "oms.report")]
    for record_id in again:  # replaying twice: the report is already sent, nothing is re-sent
        pipeline.run_oms("dlq", "replay", "oms.report", "--id", record_id)
    time.sleep(2)
    assert [r for r in omnitron.requests() if r["path"] == BULK and r["status"] == 200] == ok
    assert_reported_exactly(omnitron, db, doomed, [unknown])
