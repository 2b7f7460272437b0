"""The 2-minute time limit covers the actor, not the after-hooks (issue 8, item 2): a slow
dead-letter record or a slow retry publish is not interrupted, and no worker thread dies."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
import structlog
from dramatiq.middleware import Middleware

from adapters.messaging.broker import build_broker
from adapters.messaging.middleware import DeadLetterRecorder

LIMIT_MS = 300


@pytest.fixture(autouse=True)
def default_structlog() -> None:
    """A test that ran the CLI under capsys may have left structlog writing to a closed
    stream; the middleware under test logs, so start from structlog's defaults."""
    structlog.reset_defaults()


SLOW_S = 1.2  # the limit's monitor checks once a second: well past the limit


class SlowRetryPublish(Middleware):
    """A retry publish that takes longer than the time limit (a blocked connection)."""

    def __init__(self) -> None:
        self.published: list[str] = []

    def before_enqueue(self, broker: dramatiq.Broker, message: Any, delay: Any) -> None:
        if delay is not None:
            time.sleep(SLOW_S)
            self.published.append(message.message_id)


def wait_for(condition: Callable[[], bool], timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def run() -> Iterator[Callable[[dramatiq.Broker], dramatiq.Worker]]:
    workers: list[dramatiq.Worker] = []

    def start(broker: dramatiq.Broker) -> dramatiq.Worker:
        broker.emit_after("process_boot")  # starts the time limit's monitor thread
        worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop(timeout=2000)


def test_a_slow_dead_letter_record_is_not_interrupted_and_the_thread_lives_on(
    run: Callable[[dramatiq.Broker], dramatiq.Worker],
) -> None:
    recorded: list[str] = []

    def slow_record(message: dict[str, Any], reason: str) -> None:
        time.sleep(SLOW_S)
        recorded.append(message["message_id"])

    broker = build_broker("stub:", [DeadLetterRecorder(slow_record, attempts=1)])
    done: list[int] = []

    @dramatiq.actor(broker=broker, queue_name="t", max_retries=0, time_limit=LIMIT_MS)
    def fails() -> None:
        raise ValueError("bad input")

    @dramatiq.actor(broker=broker, queue_name="t", time_limit=LIMIT_MS)
    def works() -> None:
        done.append(1)

    worker = run(broker)
    failed = fails.send()
    works.send()
    assert wait_for(lambda: done == [1]), "the next message was never processed"
    assert recorded == [failed.message_id]
    assert all(thread.is_alive() for thread in worker.workers)


def test_a_slow_retry_publish_is_not_interrupted_and_the_thread_lives_on(
    run: Callable[[dramatiq.Broker], dramatiq.Worker],
) -> None:
    slow = SlowRetryPublish()
    broker = build_broker("stub:", [slow])
    done: list[int] = []

    @dramatiq.actor(broker=broker, queue_name="t", min_backoff=60_000, time_limit=LIMIT_MS)
    def transient() -> None:
        raise ConnectionError("Omnitron unreachable")

    @dramatiq.actor(broker=broker, queue_name="t", time_limit=LIMIT_MS)
    def works() -> None:
        done.append(1)

    worker = run(broker)
    retried = transient.send()
    works.send()
    assert wait_for(lambda: done == [1]), "the next message was never processed"
    assert slow.published == [retried.message_id], "the retry was stored"
    assert all(thread.is_alive() for thread in worker.workers)
