"""The one place the broker is configured. `workers/__init__` imports this before any actor."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.middleware import CurrentMessage, Middleware

from adapters.logging import configure_logging
from adapters.messaging.broker import build_broker
from adapters.messaging.middleware import DeadLetterRecorder, LogContext
from workers import bootstrap

configure_logging()
middleware: list[Middleware] = [
    CurrentMessage(),
    LogContext(),
    DeadLetterRecorder(bootstrap.record_dead_letter),
]
if os.environ.get("dramatiq_prom_port") and os.environ.get("dramatiq_prom_host"):
    # Set by `oms worker --metrics-port` before dramatiq starts: its exposition server is a
    # fork of the main process and reads them from the environment it inherits.
    from dramatiq.middleware.prometheus import Prometheus

    middleware.insert(0, Prometheus())
broker = build_broker(
    bootstrap.settings().broker_url, middleware, record_rejected=bootstrap.record_dead_letter
)
dramatiq.set_broker(broker)
