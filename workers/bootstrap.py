"""Process-wide wiring for the actors: settings, the engine (made lazily, after fork), the
outbox relay and the unit-of-work factory."""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Any

import dramatiq
import structlog
from sqlalchemy import Engine

from adapters.messaging.outbox_relay import OutboxRelay
from adapters.omnitron.client import OmnitronClient
from adapters.persistence.budget import stage_pool
from adapters.persistence.dead_letters import record_dead_letter as _record
from adapters.persistence.engine import make_engine
from adapters.persistence.group_commit import DirectRunner, GroupCommitter, Runner
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.settings import Settings
from adapters.shipping.omnitron_shipment_client import shipment_clients
from domain.shipping import ShipmentClient


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def engine() -> Engine:
    """Its pool is the process's connection budget (spec 13): `oms worker` names it in
    OMS_DB_POOL_SIZE for its stage; otherwise every worker thread and the marking thread."""
    raw = os.environ.get("OMS_DB_POOL_SIZE", "").strip()
    size = int(raw) if raw.isdigit() and int(raw) > 0 else 0
    size = size or stage_pool("all", settings().worker_threads)
    return make_engine(settings().database_url, pool_size=size)


@cache
def relay() -> OutboxRelay:
    return OutboxRelay(engine(), dramatiq.get_broker())


_local = threading.local()


def omnitron() -> OmnitronClient:
    """One Omnitron client (session, token) per worker thread."""
    client = getattr(_local, "omnitron", None)
    if client is None:
        s = settings()
        client = OmnitronClient(s.omnitron_url, s.omnitron_username, s.omnitron_password)
        _local.omnitron = client
    return client


@cache
def shipping() -> dict[str, ShipmentClient]:
    return shipment_clients()


def unit_of_work() -> SqlUnitOfWork:
    return SqlUnitOfWork(engine(), publisher=relay().publish_committed)


_runners: dict[str, Runner] = {}
_runners_lock = threading.Lock()


def group(stage: str) -> Runner:
    """Where a stage runs its use case: in groups of messages sharing one transaction
    (PostgreSQL, OMS_GROUP_COMMIT > 1), else in a unit of work of its own per message."""
    with _runners_lock:
        runner = _runners.get(stage)
        if runner is None:
            size = settings().group_commit
            if size > 1 and engine().dialect.name == "postgresql":
                runner = GroupCommitter(engine(), relay().publish_committed, stage, size)
            else:
                runner = DirectRunner(unit_of_work)
            _runners[stage] = runner
        return runner


def record_dead_letter(message: dict[str, Any], reason: str) -> None:
    """Called by the middleware while the failed message's log context is still bound: the
    order number a stage bound is kept with the record (one order's history shows it)."""
    number = structlog.contextvars.get_contextvars().get("order_number")
    _record(engine(), message, reason, order_number=number if isinstance(number, str) else None)


def seen_order(number: str) -> None:
    """The use cases' SeenOrder: the order's number on every later log line of the message."""
    structlog.contextvars.bind_contextvars(order_number=number)


def reset() -> None:
    """Forget the cached wiring (tests and the demo switch settings between runs)."""
    _local.__dict__.clear()
    _runners.clear()
    for function in (settings, engine, relay, shipping):
        function.cache_clear()
