"""Random merchant, poll, channel and import events on random orders (hypothesis stateful).
After every step: the identity of spec 4 holds exactly, every total equals a fresh
recomputation from the lines, every item's state is reachable in its process, and nothing
moves backwards."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain import services
from domain.merchant_events import MerchantEvent, trigger_merchant_event
from domain.merchant_oms import FORCED, INITIAL_STATE, SHIPPED_PROCESSES, Process, Source
from domain.model import Channel, Expense, MerchantOrder, Order, OrderItem, Product
from domain.packaging import pack
from domain.poll_service import poll_packages
from domain.splitting import marketplace_expenses
from domain.statuses import OrderStatus, PackageStatus
from domain.totals import totals_of
from tests.unit.fakes import FakeOmnitron, FakeUnitOfWork

FORCED_TARGETS = {target for target, _ in FORCED.values()}
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PROCESSES = {name: Process(name, rows) for name, rows in SHIPPED_PROCESSES.items()}
EVENTS = [*sorted(set().union(*(p.events for p in PROCESSES.values()))), "explode"]
MERCHANTS = ["MAIN", "MER000002", "MER000005"]
ENDED = {OrderStatus.cancelled, OrderStatus.refunded}
_ids = itertools.count(1)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    number = f"ST-{next(_ids)}"
    items = []
    for n in range(draw(st.integers(1, 4))):
        quantity = draw(st.integers(1, 3))
        price = draw(st.integers(1, 10_000))
        status = draw(st.sampled_from([OrderStatus.approved] * 4 + sorted(ENDED)))
        items.append(
            OrderItem(
                omnitron_id=next(_ids) * 10 + n,
                product=Product("SKU", "Name"),
                merchant_reference=draw(st.sampled_from(MERCHANTS)),
                price=price,
                tax_rate=Fraction(draw(st.sampled_from([0, 8, 18, 20]))),
                quantity=quantity,
                discount_amount=draw(st.integers(0, price * quantity)),
                status=status,
            )
        )
    merchants = sorted({i.merchant_reference for i in items})
    expenses = [
        Expense(
            "shipping",
            "fee",
            draw(st.integers(0, 2_000)),
            Fraction(20),
            draw(st.sampled_from([None, *merchants])),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    channel_type = draw(st.sampled_from(["trendyol", "trendyol", "web"]))
    return Order(
        channel=Channel(42 if channel_type != "web" else 7, "C", channel_type),
        number=number,
        status=OrderStatus.approved,
        date_placed=NOW,
        currency="try",
        items=items,
        expenses=expenses,
    )


class MerchantMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.uow = FakeUnitOfWork()
        self.order_ids: list[int] = []
        self.sent: dict[int, Order] = {}
        self.seen: dict[str, tuple[str, str]] = {}  # item reference -> (process, state)
        self.messages = itertools.count()

    @initialize(order=orders())
    def first_order(self, order: Order) -> None:
        self._add(order)

    @rule(order=orders())
    def another_order(self, order: Order) -> None:
        self._add(order)

    def _add(self, order: Order) -> None:
        sent = copy.deepcopy(order)
        result = services.ingest_order(order, self.uow)
        assert result.created and result.order_id is not None
        services.split_order(result.order_id, self.uow, clock=lambda: NOW)
        self.order_ids.append(result.order_id)
        self.sent[result.order_id] = sent

    def _merchant_orders(self) -> list[MerchantOrder]:
        return self.uow.merchant_orders.merchant_orders

    @rule(data=st.data(), source=st.sampled_from([Source.merchant, Source.api, Source.import_]))
    def merchant_event(self, data: st.DataObject, source: Source) -> None:
        mo = data.draw(st.sampled_from(self._merchant_orders()))
        merchant = mo.merchant_reference
        if data.draw(st.booleans()):  # sometimes a foreign merchant: it must change nothing
            merchant = data.draw(st.sampled_from(MERCHANTS))
        refs = [i.reference for i in mo.items] + ["nope--1"]
        items = data.draw(st.none() | st.lists(st.sampled_from(refs), min_size=1, max_size=3))
        request = MerchantEvent(
            merchant, mo.reference, data.draw(st.sampled_from(EVENTS)),
            None if items is None else tuple(items), source,
        )  # fmt: skip
        trigger_merchant_event(request, self.uow, f"m-{next(self.messages)}")

    @precondition(lambda self: self._waiting_marketplace_packages())
    @rule(data=st.data())
    def pack_a_package(self, data: st.DataObject) -> None:
        mo = data.draw(st.sampled_from(self._waiting_marketplace_packages()))
        assert mo.package is not None
        pack(mo.package, self.uow.orders.orders[mo.order_id])

    def _waiting_marketplace_packages(self) -> list[MerchantOrder]:
        return [
            mo
            for mo in self._merchant_orders()
            if mo.package is not None
            and mo.package.status is PackageStatus.waiting
            and self.uow.orders.orders[mo.order_id].channel.is_marketplace
        ]

    def _polled(self) -> list[MerchantOrder]:
        polled = (PackageStatus.packed, PackageStatus.shipped, PackageStatus.attempted_delivery)
        return [  # the poll claims marketplace orders' packages only (spec 7)
            mo
            for mo in self._merchant_orders()
            if mo.package
            and mo.package.status in polled
            and self.uow.orders.orders[mo.order_id].channel.is_marketplace
        ]

    @precondition(lambda self: self._polled())
    @rule(data=st.data())
    def poll_moves_a_package(self, data: st.DataObject) -> None:
        """The poll reads Omnitron for a package (the fakes do what the SQL poll does)."""
        mo = data.draw(st.sampled_from(self._polled()))
        package = mo.package
        assert package is not None and package.id is not None
        code = data.draw(st.sampled_from(["500", "540", "550", "100", "600"]))
        order = self.uow.orders.orders[mo.order_id]
        omnitron = FakeOmnitron()
        omnitron.says[order.number] = {pi.omnitron_item_id: code for pi in package.items}
        poll_packages([package.id], self.uow, omnitron, clock=lambda: NOW)

    @rule(data=st.data())
    def channel_resends_an_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.order_ids))
        resent = copy.deepcopy(self.sent[order_id])
        for item in resent.items:
            item.status = data.draw(st.sampled_from([item.status, *sorted(ENDED)]))
        services.ingest_order(resent, self.uow, f"c-{next(self.messages)}", clock=lambda: NOW)

    @invariant()
    def totals_are_exact_and_fresh(self) -> None:
        for order_id in self.order_ids:
            order = self.uow.orders.orders[order_id]
            mos = self.uow.merchant_orders.for_order(order_id)
            market = totals_of([], marketplace_expenses(order))
            assert order.totals == sum((mo.totals for mo in mos), market)
            assert order.totals == totals_of(order.items, order.expenses)
            for mo in mos:
                mine = [i for i in order.items if i.merchant_reference == mo.merchant_reference]
                theirs = [
                    e for e in order.expenses if e.merchant_reference == mo.merchant_reference
                ]
                assert mo.totals == totals_of(mine, theirs)

    @invariant()
    def states_reachable_and_never_backwards(self) -> None:
        for mo in self._merchant_orders():
            for item in mo.items:
                process = PROCESSES[item.process]
                assert item.state in process.reachable(INITIAL_STATE)
                before = self.seen.get(item.reference)
                if before is not None:
                    assert before[0] == item.process
                    # §9.4: the marketplace's own events (poll, channel) force an item straight
                    # to their target state when its state lacks the event; nothing else jumps
                    forced = item.state in FORCED_TARGETS
                    assert forced or item.state in process.reachable(before[1]), (
                        before,
                        item.state,
                    )
                self.seen[item.reference] = (item.process, item.state)

    @invariant()
    def marketplace_side_moves_forward_only(self) -> None:
        for order_id in self.order_ids:
            for item in self.uow.orders.orders[order_id].items:
                key = f"item-{item.id}"
                before = self.seen.get(key)
                if before is not None:
                    old = OrderStatus(int(before[1]))
                    assert (old in ENDED and item.status == old) or (
                        old not in ENDED and (item.status >= old or item.status in ENDED)
                    ), (old, item.status)
                self.seen[key] = ("order item", str(int(item.status)))
        for mo in self._merchant_orders():
            if mo.package is None:
                continue
            key = f"package-{mo.package.id}"
            before = self.seen.get(key)
            assert before is None or mo.package.status >= int(before[1])
            self.seen[key] = ("package", str(int(mo.package.status)))


MerchantMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMerchantMachine = MerchantMachine.TestCase
