"""In-memory fakes of the ports (cosmicpython style) for the use-case tests. They keep domain
objects as they are handed over: the use cases' changes are visible without a write."""

from __future__ import annotations

from datetime import datetime

from domain.merchant_oms import SHIPPED_PROCESSES, MerchantTransitionRecord, Process
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
from domain.packaging import StatusReport
from domain.ports import (
    ChannelRepository,
    MerchantLog,
    MerchantOrderRepository,
    MerchantProcessRepository,
    MerchantRepository,
    OrderRepository,
    Outbox,
    PackageRepository,
    ReportRepository,
    UnitOfWork,
)


class FakeChannels(ChannelRepository):
    def __init__(self) -> None:
        self.channels: dict[int, Channel] = {}

    def add_if_missing(self, channel: Channel) -> bool:
        if channel.id in self.channels:
            return False
        self.channels[channel.id] = channel
        return True


class FakeOrders(OrderRepository):
    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.locked: list[int] = []
        self._next_item_id = 1
        self._next_expense_id = 1
        self.saved_lines = 0

    def add(self, order: Order) -> bool:
        if self.find(order.number, order.channel.id):
            return False
        order.id = len(self.orders) + 1
        for item in order.items:
            item.id = self._next_item_id
            self._next_item_id += 1
        for expense in order.expenses:
            expense.id = self._next_expense_id
            self._next_expense_id += 1
        self.orders[order.id] = order
        return True

    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        if lock:
            self.locked.append(order_id)
        return self.orders.get(order_id)

    def find(self, number: str, channel_id: int | None = None) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.number == number and channel_id in (None, o.channel.id)
        ]

    def find_by_reference(self, reference: str, channel_id: int | None = None) -> list[Order]:
        return []  # the unit tests look orders up by number only

    def mark_split(self, order_id: int) -> None:
        self.orders[order_id].split = True

    def save_statuses(self, order: Order, items: list[OrderItem]) -> None:
        assert order.id is not None
        self.orders[order.id] = order

    def save_lines(self, order: Order, items: list[OrderItem], expenses: list[Expense]) -> None:
        assert order.id is not None
        self.orders[order.id] = order
        self.saved_lines += 1


class FakeMerchantOrders(MerchantOrderRepository):
    def __init__(self) -> None:
        self.merchant_orders: list[MerchantOrder] = []
        self.saved: list[tuple[str, list[str]]] = []

    def add(self, merchant_order: MerchantOrder) -> None:
        merchant_order.id = len(self.merchant_orders) + 1
        if merchant_order.package is not None:
            merchant_order.package.id = merchant_order.id
            merchant_order.package.order_id = merchant_order.order_id
            for n, package_item in enumerate(merchant_order.package.items):
                package_item.id = merchant_order.id * 1000 + n
        for n, item in enumerate(merchant_order.items):
            item.id = merchant_order.id * 1000 + n
        self.merchant_orders.append(merchant_order)

    def for_order(self, order_id: int) -> list[MerchantOrder]:
        return [mo for mo in self.merchant_orders if mo.order_id == order_id]

    def find(self, reference: str, merchant_reference: str) -> list[MerchantOrder]:
        return [
            mo
            for mo in self.merchant_orders
            if mo.reference == reference and mo.merchant_reference == merchant_reference
        ]

    def save_changes(self, merchant_order: MerchantOrder, items: list[MerchantOrderItem]) -> None:
        self.saved.append((merchant_order.reference, [i.reference for i in items]))


class FakeOutbox(Outbox):
    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []

    def add(self, message: OutboxMessage) -> None:
        self.messages.append(message)


class FakeMerchants(MerchantRepository):
    def __init__(self) -> None:
        self.merchants: dict[str, Merchant] = {}

    def get_or_add(self, reference: str, default_process: str) -> Merchant:
        return self.merchants.setdefault(reference, Merchant(reference, default_process))


class FakeProcesses(MerchantProcessRepository):
    def __init__(self) -> None:
        self.processes = {name: Process(name, rows) for name, rows in SHIPPED_PROCESSES.items()}

    def get(self, name: str) -> Process | None:
        return self.processes.get(name)

    def names(self) -> list[str]:
        return sorted(self.processes)


class FakeMerchantLog(MerchantLog):
    def __init__(self) -> None:
        self.records: list[MerchantTransitionRecord] = []

    def add_all(self, records: list[MerchantTransitionRecord]) -> None:
        self.records += records

    def by_message(self, message_id: str) -> list[MerchantTransitionRecord]:
        return [r for r in self.records if r.message_id == message_id]


class FakePackages(PackageRepository):
    def __init__(self, merchant_orders: FakeMerchantOrders) -> None:
        self.merchant_orders = merchant_orders
        self.locked: list[int] = []

    def get(self, package_id: int, *, lock: bool = False) -> Package | None:
        if lock:
            self.locked.append(package_id)
        for mo in self.merchant_orders.merchant_orders:
            if mo.package is not None and mo.package.id == package_id:
                return mo.package
        return None

    def ids_by_number(self, number: str) -> list[int]:
        return [
            mo.package.id
            for mo in self.merchant_orders.merchant_orders
            if mo.package and mo.package.number == number and mo.package.id
        ]

    def save_status(self, package: Package) -> None:
        pass

    def save_items(self, package: Package) -> None:
        pass


class FakeReports(ReportRepository):
    def __init__(self) -> None:
        self.reports: list[StatusReport] = []
        self.attempts: list[tuple[int, datetime, str]] = []

    def add(self, report: StatusReport) -> None:
        report.id = len(self.reports) + 1
        self.reports.append(report)

    def get(self, report_id: int) -> StatusReport | None:
        return self.reports[report_id - 1] if 0 < report_id <= len(self.reports) else None

    def mark_sent(self, report_id: int, when: datetime) -> None:
        self.reports[report_id - 1].sent_at = when

    def record_attempt(self, report_id: int, when: datetime, answer: str) -> None:
        self.attempts.append((report_id, when, answer))


class FakeUnitOfWork(UnitOfWork):
    channels: FakeChannels
    orders: FakeOrders
    merchant_orders: FakeMerchantOrders
    outbox: FakeOutbox
    merchants: FakeMerchants
    merchant_processes: FakeProcesses
    merchant_log: FakeMerchantLog
    packages: FakePackages
    reports: FakeReports

    def __init__(self) -> None:
        self.channels = FakeChannels()
        self.orders = FakeOrders()
        self.merchant_orders = FakeMerchantOrders()
        self.outbox = FakeOutbox()
        self.merchants = FakeMerchants()
        self.merchant_processes = FakeProcesses()
        self.merchant_log = FakeMerchantLog()
        self.packages = FakePackages(self.merchant_orders)
        self.reports = FakeReports()
        self.committed = False
        self.commits = 0
        self.rollbacks = 0

    def commit(self) -> None:
        self.committed = True
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1


class ExplodingMerchantOrders(FakeMerchantOrders):
    def add(self, merchant_order: MerchantOrder) -> None:
        raise RuntimeError("database went away")
