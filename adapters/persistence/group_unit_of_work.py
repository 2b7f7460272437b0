"""The unit of work one message's use case sees inside a group commit (group_commit.py): the
group's connection and transaction, repositories that defer the rows that can wait to the
group's one write per table (GroupWrites), and reads shared by the group (GroupReads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, update

from adapters.persistence import tables as t
from adapters.persistence.array_literal import ints
from adapters.persistence.bulk import insert_rows, reserve_ids
from adapters.persistence.driver import DriverStatement
from adapters.persistence.merchant_orders import SqlMerchantOrderRepository, SqlOutbox
from adapters.persistence.merchants import SqlMerchantLog, SqlMerchantRepository
from adapters.persistence.repositories import SqlOrderRepository, order_row
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain.merchant_oms import MerchantTransitionRecord
from domain.messages import OutboxMessage
from domain.model import Merchant, MerchantOrder, Order

MARK_SPLIT_MANY = (
    update(t.orders)
    .where(t.orders.c.id.in_(bindparam("order_ids", expanding=True)))
    .values(split=True)
)
MARK_SPLIT_ALL = DriverStatement(
    "UPDATE orders SET split = true WHERE id = ANY(CAST($1 AS BIGINT[]))"
)


@dataclass
class GroupWrites:
    """What one work deferred to the end of its group."""

    orders: list[Order] = field(default_factory=list)  # new, with reserved ids
    order_lines: list[Order] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    merchant_orders: list[MerchantOrder] = field(default_factory=list)
    merchant_log: list[MerchantTransitionRecord] = field(default_factory=list)
    split: list[int] = field(default_factory=list)

    def extend(self, other: GroupWrites) -> None:
        self.orders += other.orders
        self.order_lines += other.order_lines
        self.outbox += other.outbox
        self.merchant_orders += other.merchant_orders
        self.merchant_log += other.merchant_log
        self.split += other.split

    def flush(self, connection: Connection) -> None:
        """One statement per table for the whole group, parents before children. An order
        already stored (a redelivery, or twice in one group) fails the orders' statement on its
        unique key: the group falls back to one transaction per work, where it is seen as the
        duplicate it is."""
        insert_rows(connection, t.orders, [{"id": o.id, **order_row(o)} for o in self.orders])
        SqlOrderRepository(connection).add_lines(self.order_lines)
        SqlOutbox(connection).write(self.outbox)
        SqlMerchantOrderRepository(connection).add_all(self.merchant_orders)
        SqlMerchantLog(connection).add_all(self.merchant_log)
        if not self.split:
            return
        if connection.dialect.name == "postgresql":  # an expanding IN cost 3 % of the CPU
            MARK_SPLIT_ALL.run(connection, ints(self.split))
        else:
            connection.execute(MARK_SPLIT_MANY, {"order_ids": self.split})


@dataclass
class GroupReads:
    """What the works of one group read together: the orders their keys name (loaded, and
    locked, in three statements for the whole group on the first get), the merchants, and ids
    for new orders (reserved for the whole group on the first add)."""

    keys: set[int]
    size: int = 1  # works in the group
    order_ids: list[int] = field(default_factory=list)
    orders: dict[int, Order] | None = None
    merchants: dict[str, Merchant] = field(default_factory=dict)


class _DeferredOrders(SqlOrderRepository):
    def __init__(self, connection: Connection, writes: GroupWrites, reads: GroupReads):
        super().__init__(connection)
        self.writes = writes
        self.reads = reads

    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        if order_id in self.reads.keys:
            if self.reads.orders is None:
                self.reads.orders = self.get_many(sorted(self.reads.keys), lock=lock)
            order = self.reads.orders.pop(order_id, None)  # a second work of the same order
            if order is not None:  # reads it again, and sees what the first one did
                return order
        return super().get(order_id, lock=lock)

    def add(self, order: Order) -> bool:
        """In a group of several, the order takes a reserved id and its row waits for the
        group's one insert (GroupWrites.flush), on the bet that it is new; a lone work inserts
        at once (a reservation would be a round trip more)."""
        if self.reads.size == 1:
            return super().add(order)
        if not self.reads.order_ids:
            self.reads.order_ids = reserve_ids(self.connection, t.orders, self.reads.size)
        order.id = self.reads.order_ids.pop()
        self.writes.orders.append(order)
        self._add_lines(order)
        return True

    def _add_lines(self, order: Order) -> None:
        self.writes.order_lines.append(order)

    def mark_split(self, order_id: int) -> None:
        self.writes.split.append(order_id)


class _DeferredOutbox(SqlOutbox):
    def __init__(self, connection: Connection, writes: GroupWrites):
        super().__init__(connection)
        self.writes = writes

    def add(self, message: OutboxMessage) -> None:
        self.writes.outbox.append(message)


class _DeferredMerchantOrders(SqlMerchantOrderRepository):
    def __init__(self, connection: Connection, writes: GroupWrites):
        super().__init__(connection)
        self.writes = writes

    def add_all(self, merchant_orders: list[MerchantOrder]) -> None:
        self.writes.merchant_orders += merchant_orders


class _GroupMerchants(SqlMerchantRepository):
    def __init__(self, connection: Connection, reads: GroupReads):
        super().__init__(connection)
        self.reads = reads

    def get_or_add_all(self, default_processes: dict[str, str]) -> dict[str, Merchant]:
        known = self.reads.merchants
        missing = {r: p for r, p in default_processes.items() if r not in known}
        if missing:
            known.update(super().get_or_add_all(missing))
        return {reference: known[reference] for reference in default_processes}


class _DeferredMerchantLog(SqlMerchantLog):
    def __init__(self, connection: Connection, writes: GroupWrites):
        super().__init__(connection)
        self.writes = writes

    def add_all(self, records: list[MerchantTransitionRecord]) -> None:
        self.writes.merchant_log += records


class GroupUnitOfWork(SqlUnitOfWork):
    """One work's unit of work inside a group: the group's connection and transaction, the
    deferring repositories, and commit()/rollback() that only say what the work wants (the
    leader keeps the deferred rows of a work that committed, and commits the group)."""

    def __init__(
        self, engine: Engine, connection: Connection, writes: GroupWrites, reads: GroupReads
    ):
        super().__init__(engine)
        self._shared = connection
        self.writes = writes
        self.reads = reads
        self.committed = False

    def __enter__(self) -> GroupUnitOfWork:
        self._open(self._shared)
        self.orders = _DeferredOrders(self._shared, self.writes, self.reads)
        self.merchants = _GroupMerchants(self._shared, self.reads)
        self.outbox = self._outbox = _DeferredOutbox(self._shared, self.writes)
        self.merchant_orders = _DeferredMerchantOrders(self._shared, self.writes)
        self.merchant_log = _DeferredMerchantLog(self._shared, self.writes)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.connection = None

    def commit(self) -> None:
        self.committed = True

    def rollback(self) -> None:
        self.committed = False
