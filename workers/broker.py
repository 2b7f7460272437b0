"""The one place the broker is configured. `workers/__init__` imports this before any actor."""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import CurrentMessage

from adapters.logging import configure_logging
from adapters.messaging.broker import build_broker
from adapters.messaging.middleware import DeadLetterRecorder, LogContext
from workers import bootstrap

configure_logging()
broker = build_broker(
    bootstrap.settings().broker_url,
    [CurrentMessage(), LogContext(), DeadLetterRecorder(bootstrap.record_dead_letter)],
)
dramatiq.set_broker(broker)
