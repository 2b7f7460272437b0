"""In-memory fakes of the ports (cosmicpython style) for the use-case tests. They keep domain
objects as they are handed over: the use cases' changes are visible without a write."""

from __future__ import annotations

from datetime import datetime

from domain.lines import order_status
from domain.merchant_oms import (
    SHIPPED_PROCESSES,
    MerchantTransitionRecord,
    Process,
    shipped_process,
)
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
    PackageItem,
)
from domain.omnitron import OmnitronGateway, OmnitronItem, OmnitronOrder
from domain.packaging import StatusReport, TransitionRecord
from domain.polling import (
    POLLED_STATES,
    PolledMerchantItem,
    PolledPackage,
    Resolution,
    item_status_for,
)
from domain.ports import (
    ChannelRepository,
    MerchantLog,
    MerchantOrderRepository,
    MerchantProcessRepository,
    MerchantRepository,
    OrderRepository,
    Outbox,
    PackageRepository,
    PollRepository,
    ReportRepository,
    TransitionLog,
    UnitOfWork,
)
from domain.reservations import OfferKey, add_to, recompute, settle
from domain.statuses import PackageStatus


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


class FakeReservations:
    """The reservation rows, changed as the SQL writers change them: by
    `domain.reservations.settle` on every merchant item state a repository writes."""

    def __init__(self) -> None:
        self.stored: dict[OfferKey, tuple[int, int]] = {}
        self.processes = {name: shipped_process(name) for name in SHIPPED_PROCESSES}

    def reserved(self, process: str, state: str) -> bool:
        found = self.processes.get(process)
        return found is not None and found.is_reserved(state)

    def write(self, written: list[tuple[str, MerchantOrderItem]]) -> None:
        add_to(self.stored, settle(written, self.reserved))


class FakeMerchantOrders(MerchantOrderRepository):
    def __init__(self) -> None:
        self.merchant_orders: list[MerchantOrder] = []
        self.saved: list[tuple[str, list[str]]] = []
        self.reservations = FakeReservations()

    def recomputed(self) -> dict[OfferKey, tuple[int, int]]:
        """The reservations summed from the items as they are now (spec 9.5)."""
        pairs = [(mo.merchant_reference, item) for mo in self.merchant_orders for item in mo.items]
        return recompute(pairs, self.reservations.reserved)

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
        self.reservations.write(
            [(merchant_order.merchant_reference, i) for i in merchant_order.items]
        )

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
        self.reservations.write([(merchant_order.merchant_reference, i) for i in items])


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
        self.processes = {name: shipped_process(name) for name in SHIPPED_PROCESSES}

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
    polls: FakePolls
    transition_log: FakeTransitionLog

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
        self.polls = FakePolls(self.orders, self.merchant_orders)
        self.transition_log = FakeTransitionLog()
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


class FakeTransitionLog(TransitionLog):
    def __init__(self) -> None:
        self.records: list[TransitionRecord] = []

    def add(self, record: TransitionRecord) -> None:
        self.records.append(record)

    def by_message(self, message_id: str) -> TransitionRecord | None:
        return next((r for r in self.records if r.message_id == message_id), None)


class FakePolls(PollRepository):
    """What the SQL poll does (adapters/persistence/poll_repository.py), on the fakes' objects:
    live items only (package item not cancelled, order item neither cancelled nor refunded)."""

    def __init__(self, orders: FakeOrders, merchant_orders: FakeMerchantOrders) -> None:
        self.orders = orders
        self.merchant_orders = merchant_orders

    def open_cycle(self, cycle: int, when: datetime) -> bool:
        return True

    def claim(self, cycle: int, limit: int, after: int = 0) -> list[int]:
        return sorted(
            mo.package.id
            for mo in self.merchant_orders.merchant_orders
            if mo.package is not None
            and mo.package.id is not None
            and mo.package.id > after
            and mo.package.status in POLLED_STATES
            and self.orders.orders[mo.order_id].channel.is_marketplace
        )[:limit]

    def _live(self, mo: MerchantOrder) -> list[tuple[PackageItem, OrderItem]]:
        assert mo.package is not None
        lines = {item.id: item for item in self.orders.orders[mo.order_id].items}
        return [
            (pi, lines[pi.order_item_id])
            for pi in mo.package.items
            if pi.status is not PackageStatus.cancelled and lines[pi.order_item_id].live
        ]

    def _by_package(self, package_ids: list[int]) -> list[MerchantOrder]:
        wanted = set(package_ids)
        return [
            mo
            for mo in self.merchant_orders.merchant_orders
            if mo.package is not None and mo.package.id in wanted
        ]

    def load(self, package_ids: list[int]) -> list[PolledPackage]:
        found = []
        for mo in self._by_package(package_ids):
            live, package = self._live(mo), mo.package
            assert package is not None and package.id is not None
            if live:
                order = self.orders.orders[mo.order_id]
                ids = sorted(item.omnitron_id for _, item in live)
                found.append(
                    PolledPackage(
                        package.id, package.status, order.number, ids, package.number, order.id or 0
                    )
                )
        return found

    def move(self, moves: list[Resolution], when: datetime) -> list[Resolution]:
        applied = []
        for move in moves:
            (mo,) = self._by_package([move.package_id])
            assert mo.package is not None
            if move.target is None or move.target <= mo.package.status:
                continue
            applied.append(move)
            mo.package.status = move.target
            for package_item in mo.package.items:
                if package_item.status is not PackageStatus.cancelled:
                    package_item.status = move.target
            for _, item in self._live(mo):
                item.status = item_status_for(move.target)
            order = self.orders.orders[mo.order_id]
            order.status = order_status(item.status for item in order.items)
        return applied

    def merchant_items(self, package_ids: list[int]) -> list[PolledMerchantItem]:
        rows = []
        for mo in self._by_package(package_ids):
            live = {item.id for _, item in self._live(mo)}
            marketplace = self.orders.orders[mo.order_id].channel.is_marketplace
            assert mo.package is not None and mo.package.id is not None
            rows += [
                PolledMerchantItem(mo.package.id, mo.order_id, mo.reference, marketplace, item)
                for item in mo.items
                if item.order_item_id in live
            ]
        return rows

    def save_merchant_states(self, states: dict[int, str]) -> None:
        # the items are the fakes' own objects, already moved: only their reservations follow
        written = [
            (mo.merchant_reference, item)
            for mo in self.merchant_orders.merchant_orders
            for item in mo.items
            if item.id in states
        ]
        for _, item in written:
            assert item.state == states[item.id or 0]
        self.merchant_orders.reservations.write(written)


class FakeOmnitron(OmnitronGateway):
    """Omnitron's answer is whatever the test says it is: order number -> item id -> status."""

    def __init__(self) -> None:
        self.says: dict[str, dict[int, str]] = {}
        self.updates: list[dict[int, str]] = []

    def update_item_statuses(self, statuses: dict[int, str]) -> None:
        self.updates.append(statuses)

    def orders(self, numbers: list[str], request_id: str | None = None) -> list[OmnitronOrder]:
        return [order for n in numbers if (order := self.get_order(n)) is not None]

    def get_order(self, number: str) -> OmnitronOrder | None:
        if number not in self.says:
            return None
        items = [OmnitronItem(i, status) for i, status in sorted(self.says[number].items())]
        return OmnitronOrder(number, "400", items)
