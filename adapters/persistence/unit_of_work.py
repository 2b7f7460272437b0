"""The SQL unit of work: one connection, one transaction, rolled back unless committed.
Outbox messages written in the transaction are handed to the publisher after the commit."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, RootTransaction

from adapters.persistence.merchant_orders import SqlMerchantOrderRepository, SqlOutbox
from adapters.persistence.merchants import (
    SqlMerchantLog,
    SqlMerchantProcessRepository,
    SqlMerchantRepository,
)
from adapters.persistence.packaging_repositories import (
    SqlCargoConditionRepository,
    SqlPackageRepository,
    SqlReportRepository,
    SqlShipmentRepository,
    SqlTransitionLog,
    SqlTransitionRepository,
)
from adapters.persistence.poll_repository import SqlPollRepository, SqlRuntimeFlags
from adapters.persistence.repositories import SqlChannelRepository, SqlOrderRepository
from domain.messages import OutboxMessage
from domain.ports import UnitOfWork

Publisher = Callable[[list[OutboxMessage]], None]


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, engine: Engine, publisher: Publisher | None = None):
        self.engine = engine
        self.publisher = publisher
        self._known_channels: set[int] = _known_channels.setdefault(engine, set())
        self.connection: Connection | None = None
        self.transaction: RootTransaction | None = None

    def __enter__(self) -> SqlUnitOfWork:
        connection = self.engine.connect()
        self.transaction = connection.begin()
        self._open(connection)
        return self

    def _open(self, connection: Connection) -> None:
        """The repositories, on `connection` and its transaction."""
        self.connection = connection
        self.channels = self._channels = SqlChannelRepository(connection, self._known_channels)
        self.orders = SqlOrderRepository(connection)
        self.merchant_orders = SqlMerchantOrderRepository(connection)
        self.merchants = SqlMerchantRepository(connection)
        self.merchant_processes = SqlMerchantProcessRepository(connection)
        self.merchant_log = SqlMerchantLog(connection)
        self.outbox = self._outbox = SqlOutbox(connection)
        self.transitions = SqlTransitionRepository(connection)
        self.transition_log = SqlTransitionLog(connection)
        self.packages = SqlPackageRepository(connection)
        self.shipments = SqlShipmentRepository(connection)
        self.cargo_conditions = SqlCargoConditionRepository(connection)
        self.reports = SqlReportRepository(connection)
        self.polls = SqlPollRepository(connection)
        self.flags = SqlRuntimeFlags(connection)

    def remember_channels(self) -> None:
        """Channels this unit of work stored are known once it committed (never deleted)."""
        self._known_channels |= self._channels.seen

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if self.connection is not None:
                self.connection.close()
            self.connection = self.transaction = None

    def commit(self) -> None:
        assert self.transaction is not None, "commit() outside the unit of work"
        self.transaction.commit()
        self.remember_channels()
        added, self._outbox.added = self._outbox.added, []
        if added and self.publisher is not None:
            self.publisher(added)

    def rollback(self) -> None:
        if self.transaction is not None and self.transaction.is_active:
            self.transaction.rollback()


# channels stored per database (engine), held weakly: keyed by id(engine), a new engine on
# another database that took a dropped one's address found its channels "known" and skipped
# the insert (a foreign key failure seen once in the SQLite tests)
_known_channels: WeakKeyDictionary[Engine, set[int]] = WeakKeyDictionary()
