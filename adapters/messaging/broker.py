"""The dramatiq broker: RabbitMQ with publisher confirms in production, an in-process stub for
the embedded demo. Stage queues and their retry policy live here too."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Middleware,
    ShutdownNotifications,
    TimeLimit,
)

from adapters.messaging.consumer import GuardedRabbitmqBroker, RecordRejected
from adapters.messaging.nodes import delivery_limit, each_node_default, queue_type, rotated
from adapters.messaging.retries import SafeRetries

# Transient failures back off 1 s, 2 s, 4 s ... capped at 5 minutes, far below RabbitMQ's
# 30-minute consumer timeout, which delayed messages held by a worker must never reach.
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 300_000
MAX_RETRIES = 25
TIME_LIMIT_MS = 120_000
# A message with an eta is held unacked until then: no eta may be further ahead than the longest
# retry backoff (and a little), far below the consumer timeout.
MAX_ETA_AHEAD_MS = MAX_BACKOFF_MS + 60_000
HEARTBEAT_SECONDS = 30  # unless the broker URL sets `heartbeat`


def _with_defaults(url: str) -> list[str]:
    """Heartbeats and a blocked-connection timeout, unless the URL sets its own; one URL per
    node of OMS_BROKER_URL, starting at a random one (nodes.py)."""
    return rotated(
        each_node_default(
            url, heartbeat=str(HEARTBEAT_SECONDS), blocked_connection_timeout="60",
            connection_attempts="3",
        )
    )  # fmt: skip


PUBLISH_RETRY_SECONDS = 30.0  # a quorum queue's leader election, a node's loss (nodes.py)


def build_broker(
    url: str,
    extra_middleware: list[Middleware],
    record_rejected: RecordRejected | None = None,
    publish_retry_seconds: float = PUBLISH_RETRY_SECONDS,
) -> dramatiq.Broker:
    """extra_middleware is placed before Retries, so its after-hooks see the final verdict.
    TimeLimit comes last, so its after-hook (after-hooks run in reverse) disarms the limit
    before any other after-hook runs: retry publishes and dead-letter records are not
    interrupted. record_rejected records envelopes the consumer dead-letters itself.

    Not dramatiq's Callbacks and Pipelines: no actor here uses them, and with them an upstream
    envelope's options (`on_success`, `pipe_target`) could make a worker send messages to other
    actors; each is also one more hook call on every message's every event."""
    middleware: list[Middleware] = [
        AgeLimit(),
        ShutdownNotifications(),
        *extra_middleware,
        SafeRetries(
            max_retries=MAX_RETRIES, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS
        ),
        TimeLimit(time_limit=TIME_LIMIT_MS),
    ]
    broker: dramatiq.Broker
    if url.startswith("stub:"):
        broker = StubBroker(middleware=middleware)
    else:
        broker = GuardedRabbitmqBroker(
            url=_with_defaults(url),
            confirm_delivery=True,
            middleware=middleware,
            record_rejected=record_rejected,
            max_eta_ahead_ms=MAX_ETA_AHEAD_MS,
            queue_type=queue_type(),
            delivery_limit=delivery_limit(),
            publish_retry_seconds=publish_retry_seconds,
        )
    return broker
