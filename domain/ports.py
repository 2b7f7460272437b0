"""Ports: what the use cases need from the outside world. Adapters implement them."""

from __future__ import annotations

import abc
from types import TracebackType

from domain.messages import OutboxMessage
from domain.model import Channel, MerchantOrder, Order


class ChannelRepository(abc.ABC):
    @abc.abstractmethod
    def add_if_missing(self, channel: Channel) -> bool:
        """Store the channel on first sight; True when it was new."""


class OrderRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, order: Order) -> bool:
        """Store a new order with its lines and set ids; False (nothing stored) when
        (channel, number) exists already. Raises ConflictingOrderItems when an Omnitron
        item id belongs to another order."""

    @abc.abstractmethod
    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        """The order with its lines; `lock` holds it against concurrent writers until commit."""

    @abc.abstractmethod
    def find(self, number: str, channel_id: int | None = None) -> list[Order]:
        """Orders with this number (one per channel unless a channel is given)."""

    @abc.abstractmethod
    def mark_split(self, order_id: int) -> None: ...


class MerchantOrderRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, merchant_order: MerchantOrder) -> None:
        """Store a merchant order with its package and package items; sets ids."""

    def add_all(self, merchant_orders: list[MerchantOrder]) -> None:
        """Store several at once; adapters may batch this."""
        for merchant_order in merchant_orders:
            self.add(merchant_order)

    @abc.abstractmethod
    def for_order(self, order_id: int) -> list[MerchantOrder]: ...


class Outbox(abc.ABC):
    @abc.abstractmethod
    def add(self, message: OutboxMessage) -> None:
        """Record a message in the current transaction; it is published after commit."""


class UnitOfWork(abc.ABC):
    """One transaction. Leaving the block without `commit()` rolls everything back."""

    channels: ChannelRepository
    orders: OrderRepository
    merchant_orders: MerchantOrderRepository
    outbox: Outbox

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
