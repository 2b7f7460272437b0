"""The broker side of "nothing lost, nothing stuck" (issue 8) on the real RabbitMQ: a retry the
broker refuses keeps its message (item 1); an envelope the worker cannot run is dead-lettered with
its reason and the queue goes on (items 4, 16b, 16c)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import dramatiq
import pika
import pytest
import structlog
from sqlalchemy import Engine

from adapters.messaging.broker import build_broker
from adapters.messaging.dead_letter_keeper import drain
from adapters.messaging.publisher import message_for
from adapters.persistence.dead_letters import dead_letters, record_dead_letter
from adapters.persistence.engine import make_engine
from tests import services

pytestmark = [pytest.mark.services]


@pytest.fixture(autouse=True)
def default_structlog() -> None:
    """A test that ran the CLI under capsys may have left structlog writing to a closed
    stream; the middleware under test logs, so start from structlog's defaults."""
    structlog.reset_defaults()


def vhost_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/")) or "/"


def rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:  # the vhost may come from the management API
        services.unavailable("rabbitmqctl", FileNotFoundError("not on PATH"), "is missing")
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def workers() -> Iterator[list[dramatiq.Worker]]:
    started: list[dramatiq.Worker] = []
    yield started
    for worker in started:
        worker.stop(timeout=5000)
        worker.broker.close()


def test_a_retry_the_broker_refuses_keeps_its_message_until_it_can_be_stored(
    rabbitmq_url: str, workers: list[dramatiq.Worker]
) -> None:
    queue = f"oms.refused-{uuid.uuid4().hex[:8]}"
    broker = build_broker(rabbitmq_url, [])
    for middleware in broker.middleware:  # no 5 s pause between handlings in a test
        if hasattr(middleware, "requeue_pause"):
            middleware.requeue_pause = 0.2
    refusing = threading.Event()
    refusing.set()
    calls: list[bool] = []

    @dramatiq.actor(broker=broker, queue_name=queue, min_backoff=100, max_retries=100)
    def report() -> None:
        calls.append(refusing.is_set())
        if refusing.is_set():
            raise ConnectionError("Omnitron unreachable")

    vhost, policy = vhost_of(rabbitmq_url), f"refuse-{queue}"
    assert vhost.startswith("oms-test-"), "the policy goes on a private vhost only"
    definition = json.dumps({"max-length": 0, "overflow": "reject-publish"})
    pattern = "^" + queue.replace(".", r"\.") + r"\.DQ$"
    rabbitmqctl("set_policy", "-p", vhost, "--apply-to", "queues", policy, pattern, definition)
    try:
        broker.declare_queue(queue, ensure=True)
        report.send()
        workers.append(dramatiq.Worker(broker, worker_threads=1, worker_timeout=100))
        workers[0].start()
        wait_for(lambda: len(calls) >= 3, 60, "the message to be handled again")
        assert services.queue_depth(rabbitmq_url, f"{queue}.XQ") == 0, "not dead-lettered"
    finally:
        rabbitmqctl("clear_policy", "-p", vhost, policy)
    refusing.clear()
    wait_for(lambda: calls[-1:] == [False], 60, "the message to succeed once it could retry")
    time.sleep(0.5)
    assert calls.count(False) == 1, "succeeded once"
    for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
        assert services.queue_depth(rabbitmq_url, name) == 0


def test_envelopes_the_worker_cannot_run_are_dead_lettered_with_a_reason_and_the_queue_goes_on(
    rabbitmq_url: str, db: Engine, workers: list[dramatiq.Worker]
) -> None:
    queue = f"oms.guarded-{uuid.uuid4().hex[:8]}"

    def record(message: dict[str, Any], reason: str) -> None:
        record_dead_letter(db, message, reason)

    broker = build_broker(rabbitmq_url, [], record_rejected=record)
    done: list[str] = []

    @dramatiq.actor(broker=broker, queue_name=queue, actor_name="take")
    def take(body: str) -> None:
        done.append(body)

    def envelope(**change: Any) -> dict[str, Any]:
        return message_for(queue, "take", "bad").asdict() | {"args": ["bad"]} | change

    now = int(time.time() * 1000)
    bad: dict[bytes, str] = {
        b"\xff not even utf-8": "undecodable message: the body is not JSON (UnicodeDecodeError)",
        json.dumps(envelope(options=None)).encode(): "options is null, not an object",
        json.dumps(envelope(actor_name=["take"])).encode(): "actor_name is a list, not a string",
        json.dumps(
            envelope(actor_name="gone")
        ).encode(): f"no actor named 'gone' on queue '{queue}'",
        json.dumps(
            envelope(options={"eta": now + 3_600_000})
        ).encode(): "s ahead; at most 360 s is accepted",
        json.dumps(envelope(queue_name="oms.other")).encode(): "is not the queue it came from",
    }
    broker.declare_queue(queue, ensure=True)
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    for body in bad:
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))
    connection.close()
    take.send("good")
    workers.append(dramatiq.Worker(broker, worker_threads=2, worker_timeout=100))
    workers[0].start()

    wait_for(lambda: done == ["good"], 30, "the good message behind the bad ones")
    wait_for(lambda: services.queue_depth(rabbitmq_url, f"{queue}.XQ") == len(bad), 10, "XQ")
    reasons = sorted(d["reason"] for d in dead_letters(db, queue))
    assert len(reasons) == len(bad)
    for expected in bad.values():
        assert sum(expected in reason for reason in reasons) == 1, (expected, reasons)
    assert "no reason was recorded" not in " ".join(reasons)

    def keep(message: dict[str, Any], reason: str, keep_reason: bool) -> None:
        record_dead_letter(db, message, reason, keep_existing_reason=keep_reason)

    assert drain(rabbitmq_url, keep, (queue,)) == len(bad)  # the keeper empties the XQ ...
    assert sorted(d["reason"] for d in dead_letters(db, queue)) == reasons  # ... and adds nothing


def test_every_processed_message_is_acked_once_whatever_the_runs_of_acks(
    rabbitmq_url: str, workers: list[dramatiq.Worker]
) -> None:
    """Acks go out in runs (GuardedConsumer._queue_ack): every message processed is acked,
    none twice (RabbitMQ closes the channel on an unknown tag), none left unacked to come
    back once the worker stops."""
    queue = f"oms.acks-{uuid.uuid4().hex[:8]}"
    broker = build_broker(rabbitmq_url, [])
    seen: list[int] = []
    lock = threading.Lock()

    @dramatiq.actor(broker=broker, queue_name=queue, actor_name="count")
    def count(n: int) -> None:
        with lock:
            seen.append(n)

    broker.declare_queue(queue, ensure=True)
    for n in range(500):
        count.send(n)
    workers.append(dramatiq.Worker(broker, worker_threads=16, worker_timeout=100))
    workers[0].start()
    wait_for(lambda: len(seen) >= 500, 60, "500 messages processed")
    worker = workers.pop()
    worker.stop(timeout=5000)  # unacked deliveries would go back to the queue here
    worker.broker.close()
    assert sorted(seen) == list(range(500))  # each once: no delivery came twice
    for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
        assert services.queue_depth(rabbitmq_url, name) == 0, name
