"""Ports: what the use cases need from the outside world. Adapters implement them."""

from __future__ import annotations

import abc
from datetime import datetime
from types import TracebackType

from domain.merchant_oms import MerchantTransitionRecord, Process
from domain.messages import OutboxMessage
from domain.model import (
    Channel,
    Expense,
    Merchant,
    MerchantOrder,
    MerchantOrderItem,
    Order,
    OrderItem,
    Package,
)
from domain.packaging import Shipment, StatusReport, Transition, TransitionRecord
from domain.polling import PolledMerchantItem, PolledPackage, Resolution
from domain.shipping import CargoConditions


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
    def find_by_reference(self, reference: str, channel_id: int | None = None) -> list[Order]:
        """Orders with a package of this number or a merchant order of this reference."""

    @abc.abstractmethod
    def mark_split(self, order_id: int) -> None: ...

    @abc.abstractmethod
    def save_statuses(self, order: Order, items: list[OrderItem]) -> None:
        """Write the order's status and these items' statuses (only these: others may be
        changing under another package's command or the poll)."""

    @abc.abstractmethod
    def save_lines(self, order: Order, items: list[OrderItem], expenses: list[Expense]) -> None:
        """Write the order's status and totals, these items' statuses and these expenses'
        cancelled/refunded flags (a merchant event's effect, spec 9.4)."""


class MerchantOrderRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, merchant_order: MerchantOrder) -> None:
        """Store a merchant order with its package and package items; sets ids."""

    def add_all(self, merchant_orders: list[MerchantOrder]) -> None:
        """Store several at once; adapters may batch this."""
        for merchant_order in merchant_orders:
            self.add(merchant_order)

    @abc.abstractmethod
    def for_order(self, order_id: int) -> list[MerchantOrder]:
        """The order's merchant orders with their items and packages."""

    @abc.abstractmethod
    def find(self, reference: str, merchant_reference: str) -> list[MerchantOrder]:
        """Merchant orders with this reference owned by this merchant (one per channel)."""

    @abc.abstractmethod
    def save_changes(self, merchant_order: MerchantOrder, items: list[MerchantOrderItem]) -> None:
        """Write the merchant order's totals and these items' states."""


class MerchantRepository(abc.ABC):
    @abc.abstractmethod
    def get_or_add(self, reference: str, default_process: str) -> Merchant:
        """The merchant, created on first sight with `default_process`."""

    def get_or_add_all(self, default_processes: dict[str, str]) -> dict[str, Merchant]:
        """Several merchants at once (reference -> default process); adapters may do it in
        fewer round trips."""
        return {
            reference: self.get_or_add(reference, process)
            for reference, process in default_processes.items()
        }


class MerchantProcessRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, name: str) -> Process | None:
        """The process built from its transition rows, or None when it has none."""

    @abc.abstractmethod
    def names(self) -> list[str]: ...


class MerchantLog(abc.ABC):
    """The merchant transition log, keyed by message id for redeliveries."""

    @abc.abstractmethod
    def add_all(self, records: list[MerchantTransitionRecord]) -> None: ...

    @abc.abstractmethod
    def by_message(self, message_id: str) -> list[MerchantTransitionRecord]: ...


class TransitionRepository(abc.ABC):
    @abc.abstractmethod
    def for_slug(self, slug: str) -> list[Transition]: ...


class TransitionLog(abc.ABC):
    @abc.abstractmethod
    def add(self, record: TransitionRecord) -> None: ...

    def add_all(self, records: list[TransitionRecord]) -> None:
        for record in records:
            self.add(record)

    @abc.abstractmethod
    def by_message(self, message_id: str) -> TransitionRecord | None: ...


class PackageRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, package_id: int, *, lock: bool = False) -> Package | None: ...

    @abc.abstractmethod
    def ids_by_number(self, number: str) -> list[int]: ...

    @abc.abstractmethod
    def save_status(self, package: Package) -> None:
        """Write the package's status and its items' statuses."""

    @abc.abstractmethod
    def save_items(self, package: Package) -> None:
        """Write the package's status and each item's own status (a cancelled item keeps
        its own)."""


class ShipmentRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, shipment: Shipment) -> None: ...

    @abc.abstractmethod
    def for_packages(self, package_ids: list[int]) -> dict[int, Shipment]: ...


class CargoConditionRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, cargo_company_id: int) -> CargoConditions | None: ...

    @abc.abstractmethod
    def save(self, conditions: CargoConditions) -> None: ...


class ReportRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, report: StatusReport) -> None:
        """Store the report; sets its id."""

    @abc.abstractmethod
    def get(self, report_id: int) -> StatusReport | None: ...

    @abc.abstractmethod
    def mark_sent(self, report_id: int, when: datetime) -> None: ...

    @abc.abstractmethod
    def record_attempt(self, report_id: int, when: datetime, answer: str) -> None:
        """Count one try to send the report: its end time and Omnitron's answer (short)."""


class PollRepository(abc.ABC):
    """Claims and status moves of the shipment status poll (spec section 7)."""

    @abc.abstractmethod
    def open_cycle(self, cycle: int, when: datetime) -> bool:
        """Record a poll cycle; False when it exists (another scheduler's tick)."""

    @abc.abstractmethod
    def claim(self, cycle: int, limit: int, after: int = 0) -> list[int]:
        """Claim the part of this cycle after package id `after`: its first `limit` due
        packages (packed, shipped or attempted_delivery, marketplace channel), in id order.
        A part is claimed once per cycle: claimed again, it returns nothing. Returns the ids,
        sorted."""

    @abc.abstractmethod
    def load(self, package_ids: list[int]) -> list[PolledPackage]: ...

    @abc.abstractmethod
    def move(self, moves: list[Resolution], when: datetime) -> list[Resolution]:
        """Apply forward-only moves to packages, their items, shipments and OMS order items (and
        the orders' statuses, which follow their items); returns the moves that applied."""

    @abc.abstractmethod
    def merchant_items(self, package_ids: list[int]) -> list[PolledMerchantItem]:
        """The merchant order items of these packages whose package items are not cancelled,
        in one read."""

    @abc.abstractmethod
    def save_merchant_states(self, states: dict[int, str]) -> None:
        """Merchant order item id -> its new state."""


class RuntimeFlags(abc.ABC):
    @abc.abstractmethod
    def get(self, name: str) -> str | None: ...

    @abc.abstractmethod
    def set(self, name: str, value: str) -> None: ...


class Outbox(abc.ABC):
    @abc.abstractmethod
    def add(self, message: OutboxMessage) -> None:
        """Record a message in the current transaction; it is published after commit."""


class UnitOfWork(abc.ABC):
    """One transaction. Leaving the block without `commit()` rolls everything back."""

    channels: ChannelRepository
    orders: OrderRepository
    merchant_orders: MerchantOrderRepository
    merchants: MerchantRepository
    merchant_processes: MerchantProcessRepository
    merchant_log: MerchantLog
    outbox: Outbox
    transitions: TransitionRepository
    transition_log: TransitionLog
    packages: PackageRepository
    shipments: ShipmentRepository
    cargo_conditions: CargoConditionRepository
    reports: ReportRepository
    polls: PollRepository
    flags: RuntimeFlags

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
