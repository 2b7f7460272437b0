"""Product offer reservations (spec 9.5): the reserved flags of both processes, and an item
moving into and out of a reserved state by every kind of event — the split (arriving live,
cancelled or refunded), a merchant event, an import row, an API call, the channel re-sending the
order (forced), the poll moving a package (applied and forced) and reading 100 — with the stored
figure equal to the recomputed one after each."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from domain.merchant_oms import (
    DEFAULT_PROCESS,
    MAIN_PROCESS,
    SHIPPED_RESERVED,
    Source,
    shipped_process,
)
from domain.model import Channel, MerchantOrderItem, Order, OrderItem, Product
from domain.reservations import (
    OFFER,
    SKU,
    Delta,
    OfferKey,
    StateChange,
    deltas,
    differences,
    offer_key,
)
from domain.statuses import OrderStatus, PackageStatus
from tests.unit.test_paths_stateful import World

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
OFFER_KEY = OfferKey("MER000002", OFFER, "OFFER-1")


def test_each_process_reserves_exactly_the_states_of_the_spec() -> None:
    assert SHIPPED_RESERVED[DEFAULT_PROCESS] == {"created", "new"}
    assert SHIPPED_RESERVED[MAIN_PROCESS] == {
        "created",
        "new",
        "left the merchant location",
        "arrived at distribution center",
    }
    for name in (DEFAULT_PROCESS, MAIN_PROCESS):
        process = shipped_process(name)
        for state in process.states - SHIPPED_RESERVED[name]:
            assert not process.is_reserved(state), (name, state)


def test_dot_marks_the_reserved_states_only() -> None:
    dot = shipped_process(MAIN_PROCESS).dot()
    marked = [line for line in dot.splitlines() if 'xlabel="reserved"' in line]
    assert sorted(line.split('"')[1] for line in marked) == sorted(SHIPPED_RESERVED[MAIN_PROCESS])


def test_offer_key_is_the_offer_else_the_sku() -> None:
    assert offer_key("M", "OFF", "SKU1") == OfferKey("M", OFFER, "OFF")
    assert offer_key("M", None, "SKU1") == OfferKey("M", SKU, "SKU1")
    assert offer_key("M", "", "SKU1") == OfferKey("M", SKU, "SKU1")


def test_deltas_count_entering_and_leaving_only() -> None:
    process = shipped_process(MAIN_PROCESS)
    key = OfferKey("M", OFFER, "O")

    def change(before: str | None, after: str, quantity: int = 2) -> StateChange:
        return StateChange(key, quantity, MAIN_PROCESS, before, after)

    def reserved(_process: str, state: str) -> bool:
        return process.is_reserved(state)

    assert deltas([change(None, "new")], reserved) == {key: Delta(2, 1)}
    assert deltas([change(None, "canceled")], reserved) == {}
    assert deltas([change("new", "left the merchant location")], reserved) == {}
    assert deltas([change("arrived at distribution center", "shipped")], reserved) == {
        key: Delta(-2, -1)
    }
    # two moves of one offer in one statement add up; back and forth is no change at all
    assert deltas([change(None, "new"), change("new", "canceled")], reserved) == {}
    assert deltas([change(None, "new", 3), change(None, "new", 1)], reserved) == {key: Delta(4, 2)}


def test_differences_name_every_offer_that_differs() -> None:
    a, b, c = (OfferKey("M", OFFER, x) for x in "abc")
    found = differences({a: (2, 1), b: (1, 1)}, {a: (2, 1), c: (5, 2)})
    assert [d.key for d in found] == [b, c]
    assert "stored 1 (1 items), recomputed 0 (0 items)" in found[0].line()


def order(*statuses: OrderStatus, web: bool = False, merchant: str = "MER000002") -> Order:
    return Order(
        channel=Channel(7, "Web", "web") if web else Channel(42, "Trendyol", "trendyol"),
        number=f"RES-{id(statuses)}-{len(statuses)}-{web}-{merchant}",
        status=OrderStatus.approved,
        date_placed=NOW,
        currency="try",
        items=[
            OrderItem(
                omnitron_id=9000 + n,
                product=Product("SKU-1", "Name"),
                merchant_reference=merchant,
                price=1000,
                tax_rate=Fraction(20),
                quantity=3,
                product_offer_reference="OFFER-1",
                status=status,
            )
            for n, status in enumerate(statuses)
        ],
        expenses=[],
    )


def reserved_now(world: World, key: OfferKey = OFFER_KEY) -> tuple[int, int]:
    stored = world.uow.merchant_orders.reservations.stored
    assert stored == world.uow.merchant_orders.recomputed()
    return stored.get(key, (0, 0))


def state(world: World, omnitron_id: int) -> str:
    item: MerchantOrderItem = world.item(omnitron_id)[1]
    return item.state


def test_the_split_reserves_live_items_only() -> None:
    world = World(order(OrderStatus.approved, OrderStatus.cancelled, OrderStatus.refunded))
    assert reserved_now(world) == (3, 1)


@pytest.mark.parametrize("source", [Source.merchant, Source.import_, Source.api])
def test_a_merchant_cancel_releases_and_a_refused_one_keeps(source: Source) -> None:
    world = World(order(OrderStatus.approved, OrderStatus.approved))
    assert reserved_now(world) == (6, 2)
    assert world.merchant_event("cancel by merchant", 9000, source)
    assert reserved_now(world) == (3, 1)
    assert not world.merchant_event("ship", 9001, source)  # a marketplace item: rejected
    assert reserved_now(world) == (3, 1)


def test_distribution_steps_stay_reserved_and_close_never_re_reserves() -> None:
    world = World(order(OrderStatus.approved, merchant="MAIN"))
    key = OfferKey("MAIN", OFFER, "OFFER-1")
    assert world.merchant_event("send to distribution", 9000, Source.merchant)
    assert world.merchant_event("confirm at center", 9000, Source.merchant)
    assert state(world, 9000) == "arrived at distribution center"
    assert reserved_now(world, key) == (3, 1)
    world.resend(9000, OrderStatus.cancelled)  # the channel: forced to canceled
    assert state(world, 9000) == "canceled"
    assert reserved_now(world, key) == (0, 0)
    assert world.merchant_event("close", 9000, Source.merchant)
    assert reserved_now(world, key) == (0, 0)


def test_the_channel_cancelling_or_refunding_releases() -> None:
    world = World(order(OrderStatus.approved, OrderStatus.approved))
    world.resend(9000, OrderStatus.cancelled)
    assert reserved_now(world) == (3, 1)
    world.resend(9001, OrderStatus.refunded)  # forced: `new` has no refund
    assert state(world, 9001) == "refunded"
    assert reserved_now(world) == (0, 0)


def _packed(world: World) -> None:
    """The package as packing leaves it (the poll reads packed packages only)."""
    package = world.package(9000)
    assert package is not None
    package.status = PackageStatus.packed
    for item in package.items:
        item.status = PackageStatus.packed


def test_the_poll_shipping_releases_and_its_100_too() -> None:
    world = World(order(OrderStatus.approved, OrderStatus.approved, OrderStatus.approved))
    package = world.package(9000)
    assert package is not None
    _packed(world)
    world.poll(package, {9000: "100"})  # Omnitron shows one cancelled: as a re-sent order
    assert state(world, 9000) == "canceled"
    assert reserved_now(world) == (6, 2)
    world.poll(package, {9001: "500", 9002: "500"})
    assert {state(world, 9001), state(world, 9002)} == {"shipped"}
    assert reserved_now(world) == (0, 0)


def test_the_poll_forces_a_distribution_item_out_of_its_reservation() -> None:
    world = World(order(OrderStatus.approved, merchant="MAIN"))
    key = OfferKey("MAIN", OFFER, "OFFER-1")
    assert world.merchant_event("send to distribution", 9000, Source.merchant)
    package = world.package(9000)
    assert package is not None
    _packed(world)
    world.poll(package, {9000: "550"})  # delivered: `left the merchant location` is forced
    assert state(world, 9000) == "delivered"
    assert reserved_now(world, key) == (0, 0)


def test_a_web_merchant_shipping_releases() -> None:
    world = World(order(OrderStatus.approved, web=True))
    assert reserved_now(world) == (3, 1)
    assert world.merchant_event("ship", 9000, Source.merchant)
    assert reserved_now(world) == (0, 0)
