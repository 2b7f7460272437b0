"""Every path to the same item statuses gives the same money and the same states (spec 9.4).

Two worlds take the same order through the same steps — cancel this line, refund that one, pack
a package, the carrier ships it, a web merchant ships an item — each world by a door drawn on
its own: a merchant event, an import row, an API call, the channel re-sending the order, the
poll reading Omnitron. A world may also take merchant-only steps (send to distribution, close,
returns) that the other does not. After every step both worlds have the same totals, expenses,
order status and packages, Omnitron was told only what it did not announce itself, and the
money equals what the order would have had, had it arrived with its items' current statuses,
and every stored reservation is the sum recomputed from the items (spec 9.5)."""

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
from domain.merchant_oms import Source
from domain.model import (
    Channel,
    Expense,
    MerchantOrder,
    MerchantOrderItem,
    Order,
    OrderItem,
    Package,
    Product,
)
from domain.packaging import pack
from domain.poll_service import poll_packages
from domain.polling import POLLED_STATES
from domain.splitting import marketplace_expenses
from domain.statuses import OrderStatus, PackageStatus
from domain.totals import totals_of
from tests.unit.fakes import FakeOmnitron, FakeUnitOfWork

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MERCHANTS = ["MAIN", "MER000002", "MER000005"]
ENDED = (OrderStatus.cancelled, OrderStatus.refunded)
ARRIVALS = [OrderStatus.approved] * 3 + [OrderStatus.cancellation_waiting, *ENDED]
MERCHANT_DOORS = {"merchant": Source.merchant, "import": Source.import_, "api": Source.api}
DOORS = [*MERCHANT_DOORS, "channel", "poll"]
ENDINGS = {
    "cancel": (OrderStatus.cancelled, "cancel by merchant"),
    "refund": (OrderStatus.refunded, "refund"),
}
MERCHANT_ONLY = [
    "send to distribution", "confirm at center", "start-return", "cancel-return",
    "execute-return", "close",
]  # fmt: skip
WITH_CARRIER = (PackageStatus.shipped, PackageStatus.attempted_delivery, PackageStatus.delivered)
_numbers = itertools.count(1)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    n = next(_numbers)
    items = []
    for i in range(draw(st.integers(1, 5))):
        quantity, price = draw(st.integers(1, 3)), draw(st.integers(1, 10_000))
        items.append(
            OrderItem(
                omnitron_id=n * 100 + i,
                product=Product(draw(st.sampled_from(["SKU-A", "SKU-B"])), "Name"),
                merchant_reference=draw(st.sampled_from(MERCHANTS)),
                # a few offers shared by lines, some lines with none (counted by SKU)
                product_offer_reference=draw(st.sampled_from([None, "OFFER-1", "OFFER-2"])),
                price=price,
                tax_rate=Fraction(draw(st.sampled_from([0, 8, 18, 20]))),
                quantity=quantity,
                discount_amount=draw(st.integers(0, price * quantity)),
                status=draw(st.sampled_from(ARRIVALS)),
            )
        )
    merchants = sorted({i.merchant_reference for i in items})
    owners = st.sampled_from([None, *merchants])
    expenses = [
        Expense("shipping", "fee", draw(st.integers(0, 2_000)), Fraction(20), draw(owners))
        for _ in range(draw(st.integers(0, 3)))
    ]
    web = draw(st.sampled_from([False, False, True]))
    return Order(
        channel=Channel(7, "Web", "web") if web else Channel(42, "Trendyol", "trendyol"),
        number=f"PATH-{n}",
        status=OrderStatus.approved,
        date_placed=NOW,
        currency="try",
        items=items,
        expenses=expenses,
    )


class World:
    """One order in its own fakes, changed through doors."""

    def __init__(self, order: Order) -> None:
        self.sent = copy.deepcopy(order)
        self.uow, self.omnitron = FakeUnitOfWork(), FakeOmnitron()
        result = services.ingest_order(copy.deepcopy(order), self.uow, clock=lambda: NOW)
        assert result.order_id is not None
        self.order_id = result.order_id
        services.split_order(self.order_id, self.uow, clock=lambda: NOW)
        self.messages = itertools.count()
        self.told: list[tuple[int, OrderStatus]] = []  # what Omnitron should have been told

    @property
    def order(self) -> Order:
        return self.uow.orders.orders[self.order_id]

    @property
    def merchant_orders(self) -> list[MerchantOrder]:
        return self.uow.merchant_orders.for_order(self.order_id)

    def line(self, omnitron_id: int) -> OrderItem:
        return next(i for i in self.order.items if i.omnitron_id == omnitron_id)

    def item(self, omnitron_id: int) -> tuple[MerchantOrder, MerchantOrderItem]:
        return next(
            (mo, item)
            for mo in self.merchant_orders
            for item in mo.items
            if item.omnitron_item_id == omnitron_id
        )

    def package(self, omnitron_id: int) -> Package | None:
        return self.item(omnitron_id)[0].package

    def _id(self) -> str:
        return f"msg-{next(self.messages)}"

    def merchant_event(self, event: str, omnitron_id: int, source: Source) -> bool:
        """The item's merchant sends `event` for it; whether the item moved."""
        mo, item = self.item(omnitron_id)
        request = MerchantEvent(
            mo.merchant_reference, mo.reference, event, (item.reference,), source
        )
        result = trigger_merchant_event(request, self.uow, self._id(), clock=lambda: NOW)
        return any(r.outcome.value in ("applied", "forced") for r in result.records)

    def resend(self, omnitron_id: int, status: OrderStatus) -> None:
        """The channel re-sends the order: this item now at `status`, the others as they are."""
        resent = copy.deepcopy(self.sent)
        for item in resent.items:
            now = self.line(item.omnitron_id).status
            item.status = status if item.omnitron_id == omnitron_id else now
        services.ingest_order(resent, self.uow, self._id(), clock=lambda: NOW)

    def polled(self, omnitron_id: int) -> bool:
        package = self.package(omnitron_id)
        return bool(
            package and package.status in POLLED_STATES and self.order.channel.is_marketplace
        )

    def poll(self, package: Package, says: dict[int, str]) -> None:
        """Omnitron answers the package's live items as `says` (others at 450: no move)."""
        live = [
            pi.omnitron_item_id
            for pi in package.items
            if pi.status is not PackageStatus.cancelled and self.line(pi.omnitron_item_id).live
        ]
        self.omnitron.says[self.order.number] = {i: says.get(i, "450") for i in live}
        assert package.id is not None
        poll_packages([package.id], self.uow, self.omnitron, clock=lambda: NOW)

    def end(self, omnitron_id: int, kind: str, door: str) -> str:
        """End a live line (cancel or refund) through `door`, or the channel when that door
        cannot do it now; returns the door that did it."""
        status, event = ENDINGS[kind]
        if door in MERCHANT_DOORS and self.merchant_event(event, omnitron_id, MERCHANT_DOORS[door]):
            if self.order.channel.is_marketplace:
                self.told.append((omnitron_id, status))
            return door
        package = self.package(omnitron_id)
        if door == "poll" and package is not None and self.polled(omnitron_id):
            self.poll(package, {omnitron_id: str(int(status))})
            return door
        self.resend(omnitron_id, status)
        return "channel"


class PathsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.worlds: list[World] = []

    @initialize(order=orders())
    def arrive(self, order: Order) -> None:
        self.worlds = [World(order), World(order)]

    @property
    def a(self) -> World:
        return self.worlds[0]

    def _live_ids(self) -> list[int]:
        return [i.omnitron_id for i in self.a.order.items if i.live]

    @precondition(lambda self: self._live_ids())
    @rule(data=st.data(), kind=st.sampled_from(sorted(ENDINGS)))
    def end_a_line(self, data: st.DataObject, kind: str) -> None:
        omnitron_id = data.draw(st.sampled_from(self._live_ids()))
        for world in self.worlds:
            world.end(omnitron_id, kind, data.draw(st.sampled_from(DOORS)))

    def _waiting(self) -> list[str]:
        return [
            mo.reference
            for mo in self.a.merchant_orders
            if mo.package is not None
            and mo.package.status is PackageStatus.waiting
            and self.a.order.channel.is_marketplace
        ]

    @precondition(lambda self: self._waiting())
    @rule(data=st.data())
    def pack_a_package(self, data: st.DataObject) -> None:
        reference = data.draw(st.sampled_from(self._waiting()))
        for world in self.worlds:
            mo = next(m for m in world.merchant_orders if m.reference == reference)
            assert mo.package is not None
            pack(mo.package, world.order)

    def _carried(self) -> list[int]:
        """A live item of each package the poll would read."""
        return [
            item.omnitron_item_id
            for mo in self.a.merchant_orders
            for item in mo.items[:1]
            if self.a.polled(item.omnitron_item_id)
        ]

    @precondition(lambda self: self._carried())
    @rule(data=st.data(), code=st.sampled_from(["500", "540", "550"]))
    def the_carrier_moves_a_package(self, data: st.DataObject, code: str) -> None:
        omnitron_id = data.draw(st.sampled_from(self._carried()))
        for world in self.worlds:
            package = world.package(omnitron_id)
            assert package is not None
            world.poll(package, {pi.omnitron_item_id: code for pi in package.items})

    def _web_moves(self) -> list[tuple[int, str]]:
        if self.a.order.channel.is_marketplace:
            return []
        return [
            (i.omnitron_id, event)
            for i in self.a.order.items
            if i.live
            for event in ("ship", "deliver")
            if all(self._has(w, i.omnitron_id, event) for w in self.worlds)
        ]

    @staticmethod
    def _has(world: World, omnitron_id: int, event: str) -> bool:
        item = world.item(omnitron_id)[1]
        process = world.uow.merchant_processes.get(item.process)
        return process is not None and process.has(item.state, event)

    @precondition(lambda self: self._web_moves())
    @rule(data=st.data())
    def a_web_merchant_ships(self, data: st.DataObject) -> None:
        omnitron_id, event = data.draw(st.sampled_from(self._web_moves()))
        for world in self.worlds:
            door = data.draw(st.sampled_from(sorted(MERCHANT_DOORS)))
            assert world.merchant_event(event, omnitron_id, MERCHANT_DOORS[door])

    @rule(data=st.data(), event=st.sampled_from(MERCHANT_ONLY))
    def one_world_takes_a_merchant_only_step(self, data: st.DataObject, event: str) -> None:
        world = data.draw(st.sampled_from(self.worlds))
        omnitron_id = data.draw(st.sampled_from([i.omnitron_id for i in world.order.items]))
        world.merchant_event(event, omnitron_id, Source.merchant)

    # -- what must hold after every step -------------------------------------------------------

    @invariant()
    def same_statuses_same_money_same_packages(self) -> None:
        if not self.worlds:
            return
        a, b = (self._picture(w) for w in self.worlds)
        assert a == b

    @staticmethod
    def _picture(world: World) -> dict[str, object]:
        order = world.order
        return {
            "items": [(i.omnitron_id, i.status) for i in order.items],
            "status": order.status,
            "totals": order.totals,
            "expenses": [(e.merchant_reference, e.canceled, e.refunded) for e in order.expenses],
            "merchant_orders": {mo.reference: mo.totals for mo in world.merchant_orders},
            "packages": {
                mo.reference: (mo.package.status, [pi.status for pi in mo.package.items])
                for mo in world.merchant_orders
                if mo.package is not None
            },
        }

    @invariant()
    def the_money_of_an_order_that_arrived_so(self) -> None:
        """The arrival path: the order sent with its items' current statuses."""
        for world in self.worlds:
            sent = copy.deepcopy(world.sent)
            for item in sent.items:
                item.status = world.line(item.omnitron_id).status
            fresh = World(sent)
            order, again = world.order, fresh.order
            assert (order.totals, order.status) == (again.totals, again.status)
            assert [(e.canceled, e.refunded) for e in order.expenses] == [
                (e.canceled, e.refunded) for e in again.expenses
            ]
            assert {mo.reference: mo.totals for mo in world.merchant_orders} == {
                mo.reference: mo.totals for mo in fresh.merchant_orders
            }

    @invariant()
    def expenses_follow_their_owners_live_lines(self) -> None:
        """Spec 2 and 9.4, read directly: an expense is payable while its owner (its merchant,
        or the whole order) has a live line (neither 100 nor 600), and ended otherwise."""
        for world in self.worlds:
            order = world.order
            for expense in order.expenses:
                owner = expense.merchant_reference
                lines = [i for i in order.items if owner in (None, i.merchant_reference)]
                live = any(i.status not in ENDED for i in lines)
                assert live == (not expense.canceled and not expense.refunded), (owner, lines)

    @invariant()
    def exact_identity(self) -> None:
        for world in self.worlds:
            order = world.order
            market = totals_of([], marketplace_expenses(order))
            assert order.totals == sum((mo.totals for mo in world.merchant_orders), market)
            assert order.totals == totals_of(order.items, order.expenses)

    @invariant()
    def no_package_is_stuck(self) -> None:
        for world in self.worlds:
            lines = {i.id: i for i in world.order.items}
            for mo in world.merchant_orders:
                package = mo.package
                if package is None:
                    continue
                live = [
                    lines[pi.order_item_id]
                    for pi in package.items
                    if pi.status is not PackageStatus.cancelled and lines[pi.order_item_id].live
                ]
                if not live:
                    assert package.status in (PackageStatus.cancelled, *WITH_CARRIER)
                    assert world.uow.polls.load([package.id or 0]) == []
                elif not world.order.channel.is_marketplace:
                    lowest = min(i.status for i in live)
                    if lowest >= OrderStatus.shipped:
                        assert package.status >= PackageStatus.shipped

    @invariant()
    def stored_reservations_equal_the_recomputed_sums(self) -> None:
        """Spec 9.5: after every step, through every door, each stored reservation is the sum
        recomputed from the items (what `oms reservations verify` checks on the database)."""
        for world in self.worlds:
            stored = world.uow.merchant_orders.reservations.stored
            assert stored == world.uow.merchant_orders.recomputed()
            assert all(quantity > 0 and count > 0 for quantity, count in stored.values())

    @invariant()
    def omnitron_is_told_only_what_it_did_not_announce(self) -> None:
        for world in self.worlds:
            told = [
                (item_id, r.status)
                for r in world.uow.reports.reports
                if r.status in ENDED
                for item_id in r.item_ids
            ]
            assert sorted(told) == sorted(world.told)


PathsMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPaths = PathsMachine.TestCase
