"""An upstream envelope's options cannot make a worker send messages to other actors: the
broker has no Callbacks or Pipelines middleware (adapters/messaging/broker.py)."""

from __future__ import annotations

import dramatiq
from dramatiq import Worker

from adapters.messaging.broker import build_broker


def test_on_success_and_pipe_target_in_an_envelope_send_nothing() -> None:
    broker = build_broker("stub://", [])
    ran: list[str] = []

    @dramatiq.actor(broker=broker, queue_name="oms.public", actor_name="public")
    def public() -> None:
        ran.append("public")

    @dramatiq.actor(broker=broker, queue_name="oms.internal", actor_name="internal")
    def internal(*args: object, **kwargs: object) -> None:
        ran.append("internal")

    follow_up = internal.message().asdict()
    broker.enqueue(public.message_with_options(on_success="internal"))
    broker.enqueue(public.message_with_options(pipe_target=follow_up))
    worker = Worker(broker, worker_timeout=50)
    worker.start()
    try:
        broker.join("oms.public", timeout=10_000)
        worker.join()
    finally:
        worker.stop()
    assert ran == ["public", "public"]
