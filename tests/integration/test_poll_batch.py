"""A poll batch of several orders on a real database: every package and merchant order item
moves once, a redelivered batch moves nothing twice, a web channel's package takes the general
merchant-event path, and the batch's statements do not grow with its packages (issue 12)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Engine, event, func, select

from adapters.omnitron.client import OmnitronClient
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import poll_service
from domain.statuses import PackageStatus
from tests.integration.test_packaging import set_status, stored_order
from tests.integration.test_polling import mark, omnitron, packed_order, poll

__all__ = ["omnitron"]  # the fixture, used by name


def _orders(engine: Engine, simulator: OmnitronSimulator, count: int) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = [packed_order(engine, simulator) for _ in range(count)]
    for order in orders:
        for items in order["items"].values():
            mark(simulator, items, "500")
    return orders


def _packages(orders: list[dict[str, Any]]) -> list[int]:
    return sorted(p for order in orders for p in order["packages"])


def _states(engine: Engine, package_ids: list[int]) -> dict[str, str]:
    """merchant order item reference -> state, for the items of these packages"""
    moi, pi = t.merchant_order_items, t.package_items
    with engine.connect() as c:
        rows = c.execute(
            select(moi.c.reference, moi.c.state)
            .join(pi, pi.c.order_item_id == moi.c.order_item_id)
            .where(pi.c.package_id.in_(package_ids))
        ).all()
    return dict((r.reference, r.state) for r in rows)


def _log_counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as c:
        merchant = select(func.count()).where(t.merchant_transition_log.c.source == "poll")
        moves = select(func.count()).where(t.transition_log.c.slug == "SHIP_THE_PACKAGE")
        return c.execute(merchant).scalar_one(), c.execute(moves).scalar_one()


def test_a_batch_of_orders_moves_each_item_once_and_a_redelivery_moves_nothing(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    orders = _orders(engine, omnitron, 3)
    packages = _packages(orders)
    before = _log_counts(engine)
    assert set(_states(engine, packages).values()) == {"new"}
    poll(engine, omnitron, packages)
    states = _states(engine, packages)
    items = sum(len(i) for order in orders for i in order["items"].values())
    assert len(states) == items == 9 and set(states.values()) == {"shipped"}
    with engine.connect() as c:
        rows = c.execute(select(t.packages.c.status).where(t.packages.c.id.in_(packages)))
        assert [r.status for r in rows] == [700] * len(packages)
    after = _log_counts(engine)
    assert (after[0] - before[0], after[1] - before[1]) == (items, len(packages))
    poll(engine, omnitron, packages)  # the same batch again (a redelivery)
    assert _states(engine, packages) == states
    assert _log_counts(engine) == after


def test_a_web_package_in_a_batch_takes_the_general_path(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    (order,) = _orders(engine, omnitron, 1)
    web = stored_order(engine, channel={"id": 50, "name": "Web", "channel_type": "web"})
    set_status(engine, web[0], PackageStatus.packed)
    with engine.connect() as c:
        number = c.execute(
            select(t.orders.c.number)
            .join(t.packages, t.packages.c.order_id == t.orders.c.id)
            .where(t.packages.c.id == web[0])
        ).scalar_one()
        items = c.execute(
            select(t.order_items.c.omnitron_id)
            .join(t.package_items, t.package_items.c.order_item_id == t.order_items.c.id)
            .where(t.package_items.c.package_id == web[0])
        ).scalars()
        item_ids = list(items)
    omnitron.register(
        {
            "number": number,
            "channel": {"id": 50, "name": "Web", "channel_type": "web"},
            "status": "450",
            "date_placed": "2026-11-21T10:00:00+03:00",
            "currency": "try",
            "items": [
                {"id": i, "product": {"sku": "S", "name": "N"}, "price": "1.00", "tax_rate": "0"}
                for i in item_ids
            ],
        }
    )
    mark(omnitron, item_ids, "500")
    packages = sorted([*order["packages"], web[0]])
    poll(engine, omnitron, packages)
    assert set(_states(engine, packages).values()) == {"shipped"}
    with engine.connect() as c:
        rows = c.execute(select(t.packages.c.status).where(t.packages.c.id.in_(packages)))
        assert [r.status for r in rows] == [700] * 3


def _statements(engine: Engine, omnitron: OmnitronSimulator, orders: int) -> int:
    packages = _packages(_orders(engine, omnitron, orders))
    counted = [0]

    def count(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # a connection prepares a statement the first time it runs it (prepared.py): the
        # executions are what a batch costs
        counted[0] += not statement.startswith("PREPARE ")

    event.listen(engine, "before_cursor_execute", count)
    try:
        poll(engine, omnitron, packages)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert set(_states(engine, packages).values()) == {"shipped"}
    return counted[0]


def test_a_batch_costs_the_same_statements_whatever_its_packages(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    first = _statements(engine, omnitron, 1)
    one = _statements(engine, omnitron, 1)
    assert _statements(engine, omnitron, 4) == one
    # the merchant processes (transitions, reserved states) are read once per database, and
    # that was when the split stored these orders' reservations (spec 9.5)
    assert first == one


def test_a_message_of_several_batches_reads_omnitron_once_per_batch(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    """A poll message carries up to BATCHES_PER_MESSAGE batches: one Omnitron read per batch
    of batch_size packages (an order a batch asked for is not asked again), one transaction."""
    orders = _orders(engine, omnitron, 3)
    packages = _packages(orders)  # each order has several packages: 6 or more in all
    omnitron.state.log.clear()
    client = OmnitronClient(omnitron.url, "oms", "oms", backoff=0.01)
    result = poll_service.poll_packages(
        packages, SqlUnitOfWork(engine), client, request_id="poll-1-x", batch_size=2
    )
    reads = [r for r in omnitron.requests() if r["path"] == "/api/v1/orders/"]
    asked = [parse_qs(r["query"])["number__in"][0].split(",") for r in reads]
    batches = [packages[i : i + 2] for i in range(0, len(packages), 2)]
    assert len(reads) <= len(batches) and all(len(numbers) <= 2 for numbers in asked)
    numbers = [n for read in asked for n in read]
    assert sorted(numbers) == sorted({o["number"] for o in orders}), "each order asked once"
    assert len(result.moved) == len(packages) and result.unknown_orders == []
    assert reads[0]["request_id"] == "poll-1-x" and len({r["request_id"] for r in reads}) == len(
        reads
    )
