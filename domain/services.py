"""Use cases. Each runs in one unit of work and is safe to run twice with the same input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import UnknownOrder
from domain.messages import OutboxMessage, SplitOrder
from domain.model import MerchantOrder, Order
from domain.ports import UnitOfWork
from domain.splitting import split
from domain.totals import totals_of

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Ingested:
    order_id: int | None
    created: bool


@dataclass(frozen=True)
class Split:
    order_id: int
    merchant_orders: list[MerchantOrder]

    @property
    def created(self) -> bool:
        return bool(self.merchant_orders)


def ingest_order(order: Order, uow: UnitOfWork) -> Ingested:
    """Store a validated order (creating its channel on first sight) and ask for its split.

    A second delivery of the same (channel, number) stores nothing and sends nothing."""
    with uow:
        uow.channels.add_if_missing(order.channel)
        order.totals = totals_of(order.items, order.expenses)
        created = uow.orders.add(order)
        if created:
            assert order.id is not None
            uow.outbox.add(OutboxMessage(SplitOrder(order_id=order.id)))
        uow.commit()
    return Ingested(order_id=order.id, created=created)


def split_order(order_id: int, uow: UnitOfWork, clock: Clock = utc_now) -> Split:
    """One merchant order with totals and one waiting package per merchant; once per order."""
    with uow:
        order = uow.orders.get(order_id, lock=True)
        if order is None:
            raise UnknownOrder(f"order id {order_id} does not exist")
        if order.split:
            return Split(order_id=order_id, merchant_orders=[])
        merchant_orders = split(order, clock())
        uow.merchant_orders.add_all(merchant_orders)
        uow.orders.mark_split(order_id)
        uow.commit()
    return Split(order_id=order_id, merchant_orders=merchant_orders)
