"""The three-node drill (spec 13, issue 26): three RabbitMQ nodes on loopback clustered, the
pipeline on quorum queues across them (OMS_QUEUE_TYPE=quorum, OMS_BROKER_URL listing the three
nodes; two worker groups, the sweeper, publishers), and in the middle of a flow of orders the
node leading `oms.ingest` is killed (SIGKILL) and started again later. Every order must be
ingested, split, packed and reported exactly once, every consumer back on a live node, and no
`.XQ` holding anything. Prints a summary: orders in, stored once, packed, reported once, lost,
doubled, and how long the node loss stalled the flow.

Runs with the drills (OMS_DRILLS=1, or `pytest -m drills tests/drills/test_quorum_cluster.py`);
needs rabbitmq-server installed and root (the nodes run as the rabbitmq user, with its Erlang
cookie). The machine's own RabbitMQ node is never touched. About a minute and a half."""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import pytest
from sqlalchemy import Engine, func, select

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from cli.generate import generate_orders
from tests.e2e.pipeline import (
    Pipeline,
    assert_stored_exactly,
    split_count,
    stored_count,
    wait_for,
    write_json_lines,
)
from tests.rabbit_cluster import Cluster, Node, cluster_of_three

pytestmark = [pytest.mark.drills, pytest.mark.services]
VHOST = "oms-drill"
QUEUES = ("oms.ingest", "oms.split", "oms.packaging", "oms.report")
SLUG = "CHANNEL_BASED_COMPLETE_PACKAGING"
BULK = "/api/i1/order_items/bulk_status_update/"
ORDERS = 300


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with cluster_of_three() as made:
        first = made.nodes[0]
        made.ctl(first, "add_vhost", VHOST)
        made.ctl(first, "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
        yield made


def broker_url(cluster: Cluster) -> str:
    return ",".join(f"{node.url}/{VHOST}" for node in cluster.nodes)


def queue_table(cluster: Cluster, via: Node) -> dict[str, dict[str, Any]]:
    out = cluster.ctl(via, "list_queues", "-p", VHOST, "name", "messages", "consumers", "leader",
                      "--formatter", "json")  # fmt: skip
    return {q["name"]: q for q in json.loads(out)}


def xq_depths(cluster: Cluster, via: Node) -> dict[str, int]:
    table = queue_table(cluster, via)
    return {f"{q}.XQ": int(table.get(f"{q}.XQ", {}).get("messages", 0)) for q in QUEUES}


def marketplace(prefix: str) -> list[dict[str, Any]]:
    channel = {"id": random.randrange(10**6, 10**9), "name": "Drill", "channel_type": "trendyol"}
    bodies: list[dict[str, Any]] = generate_orders(
        ORDERS, prefix=prefix, seed=random.randrange(10**6),
        first_item_id=random.randrange(10**11, 10**12),
    )  # fmt: skip
    for body in bodies:
        body["channel"] = channel
    return bodies


def longest_stall(
    samples: list[tuple[float, int, int]], offered: list[tuple[float, int]], killed_at: float,
    publisher_done: float,
) -> float:  # fmt: skip
    """The longest time after the kill with work waiting (an order stored and not split, an
    offered order not stored, or the publisher still publishing) and no order stored or split."""
    longest, since, last = 0.0, killed_at, (-1, -1)
    for at, stored, split in samples:
        if at < killed_at:
            last = (stored, split)
            continue
        ended = max((n for t_, n in offered if t_ <= at), default=0)
        waiting = split < stored or stored < ended or at < publisher_done
        if (stored, split) != last or not waiting:
            since, last = at, (stored, split)
        longest = max(longest, at - since)
    return longest


def package_numbers(db: Engine, prefix: str, status: int | None = None) -> list[str]:
    query = select(t.packages.c.number).where(t.packages.c.number.startswith(prefix))
    if status is not None:
        query = query.where(t.packages.c.status == status)
    with db.connect() as c:
        return list(c.execute(query).scalars())


def test_a_node_of_three_lost_mid_flow_loses_and_doubles_nothing(
    cluster: Cluster, postgres_url: str, db: Engine, omnitron: OmnitronSimulator, tmp_path: Path
) -> None:
    url = broker_url(cluster)
    pipeline = Pipeline(postgres_url, url, tmp_path, omnitron_url=omnitron.url)
    pipeline.env.update(OMS_QUEUE_TYPE="quorum")
    prefix = f"QQ-{uuid.uuid4().hex[:6].upper()}"
    bodies = marketplace(prefix)
    for body in bodies:
        omnitron.register(body)
    fifth = ORDERS // 5  # warm-up, the flow the node dies in (two fifths), while down, after
    batches = [bodies[:fifth], bodies[fifth : 3 * fifth], bodies[3 * fifth : 4 * fifth],
               bodies[4 * fifth :]]  # fmt: skip
    files = [write_json_lines(tmp_path / f"b{n}.jsonl", b) for n, b in enumerate(batches)]

    samples: list[tuple[float, int, int]] = []  # (time, orders stored, orders split)
    offered: list[tuple[float, int]] = [(0.0, 0)]  # (time, orders whose publish had ended)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), stored_count(db, prefix), split_count(db, prefix)))
            time.sleep(0.1)

    def published(batch: int) -> None:
        offered.append((time.monotonic(), offered[-1][1] + len(batches[batch])))

    sampler = threading.Thread(target=sample, daemon=True)
    victim: Node | None = None
    try:
        pipeline.start_workers()  # two groups, so consumers sit on different nodes
        pipeline._spawn("workers-b", pipeline.processes["workers"].args)  # type: ignore[arg-type]
        pipeline.start_sweeper()
        sampler.start()
        pipeline.run_oms("publish", "orders", str(files[0]))
        published(0)
        wait_for(lambda: split_count(db, prefix) >= len(batches[0]) // 2, 90, "a first flow")

        leader = queue_table(cluster, cluster.nodes[0])["oms.ingest"].get("leader")
        victim = next((n for n in cluster.nodes if n.name == leader), cluster.nodes[0])
        survivor = next(n for n in cluster.nodes if n is not victim)
        publisher = subprocess.Popen(  # the flow goes on while the node dies
            [*pipeline.oms, "publish", "orders", str(files[1])], env=pipeline.env,
            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for(
            lambda: stored_count(db, prefix) >= len(batches[0]) + 10, 60, "the second batch to flow"
        )
        killed_at = time.monotonic()
        cluster.kill(victim)

        assert publisher.wait(120) == 0, publisher.stderr.read() if publisher.stderr else ""
        published(1)
        publisher_done = offered[-1][0]
        pipeline.run_oms("publish", "orders", str(files[2]))  # with the node down
        published(2)
        wait_for(lambda: split_count(db, prefix) == offered[-1][1], 90, "the flow without it")
        time.sleep(max(0.0, 8 - (time.monotonic() - killed_at)))  # down for 8 s at least
        cluster.start(victim)
        cluster.await_up(victim)
        down_for = time.monotonic() - killed_at
        pipeline.run_oms("publish", "orders", str(files[3]))
        published(3)
        wait_for(lambda: split_count(db, prefix) == ORDERS, 120, "every order to be split")

        packed = pipeline.run_oms(
            "package", "command", "--status", "waiting", SLUG, "--json", "--timeout", "120",
            check=False,
        )  # fmt: skip
        summary = json.loads(packed.stdout)
        numbers = package_numbers(db, prefix)
        wait_for(
            lambda: len(package_numbers(db, prefix, status=500)) == len(numbers), 120,
            "every package to be packed",
        )  # fmt: skip

        def reported() -> int:
            with db.connect() as c:
                return int(
                    c.execute(
                        select(func.count())
                        .select_from(t.status_reports.join(t.packages))
                        .where(
                            t.packages.c.number.startswith(prefix),
                            t.status_reports.c.sent_at.is_not(None),
                        )
                    ).scalar_one()
                )

        wait_for(lambda: reported() == len(numbers), 120, "every package to be reported")
        time.sleep(1)  # a late duplicate report would show now
        tables = queue_table(cluster, survivor)
        running = cluster.running_nodes(survivor)
    finally:
        stop.set()
        pipeline.stop()
        if victim is not None and victim.process is None:  # failed while it was down
            cluster.start(victim)
            cluster.await_up(victim)

    assert_stored_exactly(db, prefix, bodies, packages_wait=False)
    patches = Counter(
        frozenset(i["id"] for i in r["body"]["orderitem_set"])
        for r in omnitron.requests()
        if r["method"] == "PATCH" and r["path"] == BULK and r["status"] == 200
    )
    doubled_reports = sum(n - 1 for n in patches.values() if n > 1)
    with db.connect() as c:
        stored = c.execute(
            select(func.count()).where(t.orders.c.number.startswith(prefix))
        ).scalar_one()
        letters = c.execute(select(func.count()).select_from(t.dead_letters)).scalar_one()
    stall = longest_stall(samples, offered, killed_at, publisher_done)
    ingest_only = [(at, stored, stored) for at, stored, _split in samples]
    ingest_stall = longest_stall(ingest_only, offered, killed_at, publisher_done)
    print(
        f"\nquorum drill: orders in {ORDERS}, stored once {stored}, packages {len(numbers)}, "
        f"packed {summary.get('applied')} (+{summary.get('pending')} pending at the command's "
        f"timeout), reported once {len(patches) - doubled_reports}, lost {ORDERS - stored}, "
        f"doubled {doubled_reports}; node {victim.name} (oms.ingest's leader) down "
        f"{down_for:.1f} s, flow stalled {stall:.1f} s (ingest alone "
        f"{ingest_stall:.1f} s); .XQ {xq_depths(cluster, survivor)}; "
        f"dead letters {letters}"
    )
    assert stored == ORDERS
    assert len(patches) == len(numbers) and doubled_reports == 0  # each package reported once
    assert letters == 0
    assert set(xq_depths(cluster, survivor).values()) == {0}  # nothing dead-lettered
    assert len(running) == 3  # the node came back and rejoined
    for queue in ("oms.ingest", "oms.split", "oms.packaging", "oms.report"):
        # both worker groups consume every queue again: none is left on the dead node
        assert tables[queue]["consumers"] == 2, (queue, tables[queue])
    assert stall < 60 and ingest_stall < 60


def test_publishers_go_to_the_next_node_when_theirs_is_gone(cluster: Cluster) -> None:
    """(After the drill: its node is back.) A node list whose first node is down publishes
    through the next; a plain pika check that the nodes hold the quorum queues' messages."""
    url = broker_url(cluster)
    victim = cluster.nodes[2]
    cluster.kill(victim)
    try:
        from adapters.messaging.broker import build_broker
        from adapters.messaging.confirming_publisher import ConfirmingPublisher
        from adapters.messaging.publisher import publish

        broker = build_broker(",".join([f"{victim.url}/{VHOST}", url]), [])
        try:
            broker.declare_queue("oms.failover", ensure=True)  # type: ignore[call-arg]
            for n in range(20):
                publish(broker, "oms.failover", "nobody", {"n": n})
        finally:
            broker.close()
        api = ConfirmingPublisher(",".join([f"{victim.url}/{VHOST}", url]), timeout=2.0)
        try:  # the API's publisher: the same node list, its own fail-fast connection
            for n in range(5):
                api.publish("oms.failover", "nobody", {"api": n})
        finally:
            api.close()
        connection = pika.BlockingConnection(pika.URLParameters(f"{cluster.nodes[0].url}/{VHOST}"))
        try:
            depth = connection.channel().queue_declare("oms.failover", passive=True)
            assert depth.method.message_count == 25
        finally:
            connection.close()
    finally:
        cluster.start(victim)
        cluster.await_up(victim)
