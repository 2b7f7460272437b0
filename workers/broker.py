"""The one place the broker is configured. `workers/__init__` imports this before any actor."""

from __future__ import annotations

import logging
import os

import dramatiq
from dramatiq.middleware import CurrentMessage, Middleware

from adapters.logging import configure_logging
from adapters.messaging.broker import build_broker
from adapters.messaging.middleware import DeadLetterRecorder, FreezeAfterBoot, LogContext
from workers import bootstrap

configure_logging()
# A consumer's connection closing at a normal stop (SIGTERM/SIGINT) makes pika log errors;
# dramatiq reports the connection errors that matter itself (as dramatiq's CLI sets it up).
logging.getLogger("pika").setLevel(logging.CRITICAL)
middleware: list[Middleware] = [
    CurrentMessage(),
    LogContext(),
    DeadLetterRecorder(bootstrap.record_dead_letter),
    FreezeAfterBoot(),
]
if os.environ.get("OMS_METRICS_DIR") and os.environ.get("OMS_METRICS_FD"):
    # Set by `oms worker --metrics-port` before dramatiq starts: the exposition server is a
    # fork of the main process and finds its socket and directory in the environment.
    from adapters.messaging.prometheus import StageMetrics

    middleware.insert(0, StageMetrics())
broker = build_broker(
    bootstrap.settings().broker_url, middleware, record_rejected=bootstrap.record_dead_letter
)
dramatiq.set_broker(broker)
