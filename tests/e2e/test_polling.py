"""The status poll end to end: schedulers and poll workers as subprocesses on real RabbitMQ and
PostgreSQL, Omnitron simulated over HTTP."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dramatiq
import pika
import pytest
from sqlalchemy import Engine, func, select

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from cli.generate import generate_orders
from tests.e2e.pipeline import Pipeline, wait_for
from tests.e2e.test_reports import ingest, pack, package_ids, reports_sent

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def consumers(pipeline: Pipeline, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(pipeline.env["OMS_BROKER_URL"]))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        connection.close()


def single_package_orders(count: int) -> tuple[str, list[dict[str, Any]]]:
    prefix = f"POLL-{uuid.uuid4().hex[:6].upper()}"
    bodies = generate_orders(
        count * 6,
        prefix=prefix,
        seed=random.randrange(10**6),
        first_item_id=random.randrange(10**11, 10**12),
    )
    single = [
        b
        for b in bodies
        if b["channel"]["channel_type"] != "web"  # type: ignore[index]
        and len({i["merchant_reference"] for i in b["items"]}) == 1  # type: ignore[attr-defined]
    ]
    return prefix, single[:count]


def packed(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
    count: int,
) -> tuple[list[int], list[dict[str, Any]]]:
    prefix, bodies = single_package_orders(count)
    ingest(pipeline, db, omnitron, tmp_path, bodies, prefix)
    ids = package_ids(db, prefix)
    pack(broker, ids)
    wait_for(lambda: reports_sent(db, ids) == len(ids), 90, "the packages to be packed")
    return ids, bodies


def package_statuses(db: Engine, ids: list[int]) -> Counter[int]:
    with db.connect() as c:
        rows = c.execute(select(t.packages.c.status).where(t.packages.c.id.in_(ids))).scalars()
        return Counter(rows)


def mark_all(omnitron: OmnitronSimulator, bodies: list[dict[str, Any]], status: str) -> None:
    with omnitron.state.lock:
        for body in bodies:
            for item in omnitron.state.orders[str(body["number"])]["items"]:
                item["status"] = status


def asks(omnitron: OmnitronSimulator, numbers: set[str]) -> dict[str, Counter[str]]:
    """Per poll cycle (from the X-Request-ID "poll-<cycle>-<batch>"), how often each of these
    order numbers was asked."""
    cycles: dict[str, Counter[str]] = {}
    for request in omnitron.requests():
        if request["method"] == "GET" and request["path"] == "/api/v1/orders/":
            asked = set(parse_qs(request["query"]).get("number__in", [""])[0].split(",")) & numbers
            if asked:
                cycle = str(request["request_id"]).split("-")[1]
                cycles.setdefault(cycle, Counter()).update(asked)
    return cycles


def planned(pipeline: Pipeline) -> list[int]:
    """The cycles the poll workers have planned (their JSON log lines)."""
    found = []
    for path in pipeline.log_dir.glob("poll-*.log"):
        for line in path.read_text().splitlines():
            if '"poll.cycle_planned"' in line:
                found.append(int(json.loads(line)["cycle"]))
    return found


def test_flag_off_polls_nothing(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    pipeline.env.update(POLL_INTERVAL_SECONDS="1", AUTO_RUN_SHIP_THE_PACKAGE_COMMAND="false")
    pipeline.start_workers()
    ids, bodies = packed(pipeline, db, omnitron, broker, tmp_path, 4)
    pipeline.run_oms("poll", "off")
    mark_all(omnitron, bodies, "500")
    pipeline.start_scheduler()
    time.sleep(4)
    assert package_statuses(db, ids) == Counter({500: len(ids)})
    assert asks(omnitron, {str(b["number"]) for b in bodies}) == {}


def test_two_schedulers_and_two_poll_workers_ask_each_package_once_per_cycle(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    pipeline.env.update(POLL_INTERVAL_SECONDS="3", POLL_BATCH_SIZE="7")
    pipeline.start_workers()
    ids, bodies = packed(pipeline, db, omnitron, broker, tmp_path, 30)
    numbers = {str(b["number"]) for b in bodies}
    pipeline.run_oms("poll", "on")
    mark_all(omnitron, bodies, "500")
    for name in ("poll-a", "poll-b"):
        pipeline.start_poll_workers(name)
    wait_for(lambda: consumers(pipeline, "oms.poll") >= 3, 30, "the poll workers to attach")
    for name in ("scheduler-a", "scheduler-b"):
        pipeline.start_scheduler(name)
    wait_for(lambda: package_statuses(db, ids)[700] == len(ids), 30, "every package shipped")
    mark_all(omnitron, bodies, "550")
    wait_for(lambda: package_statuses(db, ids)[800] == len(ids), 30, "every package delivered")
    delivered = time.time()
    # the second cycle after it planned: the first one's batches had an interval to be asked
    # 60 s: on a loaded machine (a bench beside the suite) 30 s was once too short
    wait_for(lambda: max(planned(pipeline), default=0) > delivered + 3, 60, "two more cycles")
    pipeline.run_oms("poll", "off")
    cycles = asks(omnitron, numbers)
    later = {cycle: asked for cycle, asked in cycles.items() if int(cycle) > delivered}
    assert later == {}, f"delivered packages are no longer due, yet asked: {later}"
    assert len(cycles) >= 2, cycles
    for cycle, counter in cycles.items():
        assert set(counter.values()) == {1}, f"cycle {cycle} asked a package twice: {counter}"
    assert sum(len(counter) for counter in cycles.values()) >= 2 * len(numbers)
    with db.connect() as c:
        log = c.execute(
            select(func.count()).where(
                t.transition_log.c.package_id.in_(ids),
                t.transition_log.c.slug == "SHIP_THE_PACKAGE",
            )
        ).scalar_one()
    assert log == 2 * len(ids), "one log line per move: packed->shipped, shipped->delivered"


def test_a_poll_worker_killed_holding_claims_leaves_them_to_be_polled(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    pipeline.start_workers(queues=["oms.ingest", "oms.split", "oms.packaging", "oms.report"])
    ids, bodies = packed(pipeline, db, omnitron, broker, tmp_path, 20)
    mark_all(omnitron, bodies, "500")
    omnitron.state.add_fault({"delay_ms": 4000, "count": 1000})  # Omnitron hangs: claims held
    pipeline.start_poll_workers()
    pipeline.run_oms("poll", "run")

    def claimed() -> bool:  # the planner's chain ended past the last package: all claimed
        with db.connect() as c:
            last = select(func.max(t.poll_cycle_parts.c.after_id))
            return (c.execute(last).scalar() or 0) >= max(ids)

    wait_for(claimed, 30, "the cycle to claim every package")
    time.sleep(1.5)  # the batches are inside their (delayed) Omnitron calls
    pipeline.kill("poll")
    assert package_statuses(db, ids)[700] == 0, "the kill landed before any move"
    omnitron.state.faults.clear()
    time.sleep(1.1)  # the next cycle is a later second
    pipeline.start_poll_workers()
    pipeline.run_oms("poll", "run")
    wait_for(lambda: package_statuses(db, ids)[700] == len(ids), 60, "every package shipped")
