"""Process-wide wiring for the actors: settings, the engine (made lazily, after fork), the
outbox relay and the unit-of-work factory."""

from __future__ import annotations

from functools import cache
from typing import Any

import dramatiq
from sqlalchemy import Engine

from adapters.messaging.outbox_relay import OutboxRelay
from adapters.persistence.dead_letters import record_dead_letter as _record
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.settings import Settings


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def engine() -> Engine:
    return make_engine(settings().database_url, pool_size=settings().worker_threads)


@cache
def relay() -> OutboxRelay:
    return OutboxRelay(engine(), dramatiq.get_broker())


def unit_of_work() -> SqlUnitOfWork:
    return SqlUnitOfWork(engine(), publisher=relay().publish_committed)


def record_dead_letter(message: dict[str, Any], reason: str) -> None:
    _record(engine(), message, reason)


def reset() -> None:
    """Forget the cached wiring (tests and the demo switch settings between runs)."""
    for function in (settings, engine, relay):
        function.cache_clear()
