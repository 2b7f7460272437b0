"""Publishing dramatiq messages (the wire contract of spec section 8.1) without importing actors."""

from __future__ import annotations

import time
import uuid
from typing import Any

import dramatiq

# Where each outbox command goes: command name -> (queue, actor).
ROUTES: dict[str, tuple[str, str]] = {
    "split_order": ("oms.split", "split_order"),
    "send_status_report": ("oms.report", "send_status_report"),
    "start_poll_cycle": ("oms.poll", "start_poll_cycle"),
    "poll_packages": ("oms.poll", "poll_packages"),
}
INGEST = ("oms.ingest", "ingest_order")
PACKAGING = ("oms.packaging", "run_package_command")
MERCHANT = ("oms.merchant", "trigger_merchant_event")


def message_for(
    queue_name: str, actor_name: str, body: Any, message_id: str | None = None
) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=queue_name,
        actor_name=actor_name,
        args=(body,),
        kwargs={},
        options={},
        message_id=message_id or str(uuid.uuid4()),
        message_timestamp=int(time.time() * 1000),
    )


def publish(
    broker: dramatiq.Broker,
    queue_name: str,
    actor_name: str,
    body: Any,
    message_id: str | None = None,
) -> str:
    """Publish one message; with the RabbitMQ broker this returns after the broker confirmed it."""
    message = message_for(queue_name, actor_name, body, message_id)
    broker.enqueue(message)
    return message.message_id


class BrokerUnavailable(Exception):
    """The broker could not be reached (or did not confirm) in time."""


def fail_fast(url: str, timeout: float) -> str:
    """The broker URL with one connection attempt and socket timeouts of `timeout` seconds."""
    from adapters.messaging.nodes import each_node

    return each_node(
        url,
        connection_attempts="1",
        retry_delay="0",
        socket_timeout=str(timeout),
        stack_timeout=str(timeout + 1),
        blocked_connection_timeout=str(timeout + 1),
    )
