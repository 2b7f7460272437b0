"""Quorum queues (OMS_QUEUE_TYPE=quorum) and a node list in OMS_BROKER_URL (spec 13), on the
local RabbitMQ node in a vhost of their own (a queue's type cannot change in place, so not the
session's vhost, whose queues are classic). The three-node cluster is the drill's
(tests/drills/test_quorum_cluster.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import pika
import pytest

from adapters.messaging.broker import build_broker
from adapters.messaging.nodes import node_urls, rotated
from adapters.messaging.publisher import publish
from tests import services

pytestmark = [pytest.mark.services]


@pytest.fixture(scope="module")
def vhost_url() -> Iterator[str]:
    yield from services.make_vhost()


@pytest.fixture
def quorum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_QUEUE_TYPE", "quorum")


def declared(url: str) -> dict[str, dict[str, object]]:
    """name -> {type, arguments} of the vhost's queues (rabbitmqctl, as the fixtures use)."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        pytest.skip("rabbitmqctl is not on PATH")
    done = subprocess.run(
        [ctl, "-q", "list_queues", "-p", services.vhost_of(url), "name", "type", "arguments",
         "--formatter", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return {q["name"]: q for q in json.loads(done.stdout)}


def arguments(queue: dict[str, object]) -> dict[str, object]:
    raw = queue["arguments"]
    if isinstance(raw, dict):
        return raw
    return {pair[0]: pair[-1] for pair in raw}  # type: ignore[attr-defined]  # [name, type, value]


def test_every_declared_queue_is_a_quorum_queue_with_at_least_once_dead_letters(
    vhost_url: str, quorum: None
) -> None:
    broker = build_broker(vhost_url, [])
    try:
        broker.declare_queue("oms.ingest", ensure=True)  # type: ignore[call-arg]
    finally:
        broker.close()
    queues = declared(vhost_url)
    for name in ("oms.ingest", "oms.ingest.DQ", "oms.ingest.XQ"):
        assert queues[name]["type"] == "quorum", queues[name]
    for name in ("oms.ingest", "oms.ingest.DQ"):
        args = arguments(queues[name])
        assert args["x-dead-letter-routing-key"] == "oms.ingest.XQ"
        assert args["x-dead-letter-strategy"] == "at-least-once"
        assert args["x-overflow"] == "reject-publish"
        assert args["x-delivery-limit"] == 50
    assert "x-message-ttl" in arguments(queues["oms.ingest.XQ"])


def _get(channel: pika.adapters.blocking_connection.BlockingChannel, queue: str) -> int | None:
    for _ in range(50):
        method, _properties, _body = channel.basic_get(queue, auto_ack=False)
        if method is not None:
            return int(method.delivery_tag)
        time.sleep(0.05)
    return None


def test_a_message_returned_past_the_delivery_limit_is_dead_lettered_not_looped(
    vhost_url: str, quorum: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_DELIVERY_LIMIT", "2")
    queue = f"oms.poison-{uuid.uuid4().hex[:6]}"
    broker = build_broker(vhost_url, [])
    try:
        broker.declare_queue(queue, ensure=True)  # type: ignore[call-arg]
        publish(broker, queue, "nobody", {"poison": True})
    finally:
        broker.close()
    connection = pika.BlockingConnection(pika.URLParameters(vhost_url))
    try:
        channel = connection.channel()
        returns = 0
        while (tag := _get(channel, queue)) is not None:
            channel.basic_nack(tag, requeue=True)  # as a worker that died with it would
            returns += 1
            assert returns <= 3, "the delivery limit did not stop the loop"
        assert returns == 3  # two returns allowed, the third dead-letters it
        assert _get(channel, f"{queue}.XQ") is not None  # at least once: it is there
    finally:
        connection.close()


def test_a_node_list_publishes_through_the_node_that_answers(vhost_url: str) -> None:
    dead = vhost_url.replace("127.0.0.1:5672", "127.0.0.1:1")
    assert dead != vhost_url
    both = f"{dead},{vhost_url}"
    assert node_urls(both) == [dead, vhost_url]
    assert sorted(rotated(both)) == sorted([dead, vhost_url])
    queue = f"oms.failover-{uuid.uuid4().hex[:6]}"
    for _ in range(4):  # whichever node a process starts at
        broker = build_broker(both, [])
        try:
            broker.declare_queue(queue, ensure=True)  # type: ignore[call-arg]
            publish(broker, queue, "nobody", {"n": 1})
        finally:
            broker.close()
    assert services.queue_depth(vhost_url, queue) == 4
