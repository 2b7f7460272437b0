"""What the status import (spec 10.2) runs its rows in, for any entry point: the database, and
the outbox relay that publishes each row's reports to Omnitron (via the report stage) right
after its commit. With the embedded broker the outbox rows wait for `oms outbox sweep`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from adapters.messaging.broker import build_broker
from adapters.messaging.outbox_relay import OutboxRelay
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.settings import Settings
from domain.ports import UnitOfWork


@contextmanager
def status_import_units(
    settings: Settings,
) -> Iterator[tuple[Engine, Callable[[], UnitOfWork]]]:
    """(engine, a unit of work per row); on leaving, the relay's marks are flushed."""
    engine = make_engine(settings.database_url, pool_size=2)  # the rows, the relay's marks
    relay = None
    if not settings.embedded_broker:
        relay = OutboxRelay(engine, build_broker(settings.broker_url, []))

    def unit_of_work() -> UnitOfWork:
        return SqlUnitOfWork(engine, publisher=relay.publish_committed if relay else None)

    try:
        yield engine, unit_of_work
    finally:
        if relay is not None:
            relay.flush()
            relay.broker.close()
        engine.dispose()
