"""The status poll on a real database and the Omnitron simulator over HTTP (spec section 7)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import Engine, select

from adapters.omnitron.client import OmnitronClient
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import poll_service
from domain.statuses import PackageStatus
from tests.integration.test_packaging import command, set_status, stored_order

BODY = "docs/examples/order-two-merchants.json"


@pytest.fixture
def omnitron() -> Iterator[OmnitronSimulator]:
    simulator = OmnitronSimulator()
    simulator.start()
    yield simulator
    simulator.stop()


def packed_order(
    engine: Engine, omnitron: OmnitronSimulator, **changes: object
) -> dict[str, object]:
    """A stored, split, fully packed two-merchant order, registered at the simulator."""
    ids = stored_order(engine, **changes)
    for package_id in ids:
        assert command(engine, package_id).record.applied
    with engine.connect() as c:
        number = c.execute(
            select(t.orders.c.number)
            .join(t.packages, t.packages.c.order_id == t.orders.c.id)
            .where(t.packages.c.id == ids[0])
        ).scalar_one()
        items = c.execute(
            select(t.order_items.c.omnitron_id, t.packages.c.id)
            .join(t.package_items, t.package_items.c.order_item_id == t.order_items.c.id)
            .join(t.packages, t.packages.c.id == t.package_items.c.package_id)
            .where(t.packages.c.id.in_(ids))
        ).all()
    omnitron.register(
        {
            "number": number,
            "channel": {"id": 42, "name": "T", "channel_type": "trendyol"},
            "status": "450",
            "date_placed": "2026-11-21T10:00:00+03:00",
            "currency": "try",
            "items": [
                {"id": i, "product": {"sku": "S", "name": "N"}, "price": "1.00", "tax_rate": "0"}
                for i, _ in items
            ],
        }
    )
    by_package: dict[int, list[int]] = {}
    for item_id, package_id in items:
        by_package.setdefault(package_id, []).append(item_id)
    return {"number": number, "packages": ids, "items": by_package}


def mark(omnitron: OmnitronSimulator, item_ids: list[int], status: str) -> None:
    with omnitron.state.lock:
        for item_id in item_ids:
            omnitron.state.item(item_id)["status"] = status


def poll(engine: Engine, omnitron: OmnitronSimulator, package_ids: list[int]) -> None:
    client = OmnitronClient(omnitron.url, "oms", "oms", backoff=0.01)
    poll_service.poll_packages(package_ids, SqlUnitOfWork(engine), client)


def statuses(
    engine: Engine, package_ids: list[int]
) -> dict[int, tuple[int, int, set[int], set[int]]]:
    """package id -> (package, shipment, package item and order item statuses)"""
    out = {}
    with engine.connect() as c:
        for package_id in package_ids:
            package = c.execute(select(t.packages.c.status).where(t.packages.c.id == package_id))
            shipment = c.execute(
                select(t.shipments.c.status).where(t.shipments.c.package_id == package_id)
            )
            rows = c.execute(
                select(t.package_items.c.status, t.order_items.c.status.label("item"))
                .join(t.order_items, t.order_items.c.id == t.package_items.c.order_item_id)
                .where(t.package_items.c.package_id == package_id)
            ).all()
            out[package_id] = (
                package.scalar_one(),
                shipment.scalar_one(),
                {r.status for r in rows},
                {r.item for r in rows},
            )
    return out


@pytest.mark.parametrize(
    ("omnitron_status", "package", "item"),
    [("500", 700, 500), ("540", 720, 540), ("550", 800, 550), ("510", 500, 450), ("400", 500, 450)],
)
def test_each_mapping_row(
    engine: Engine, omnitron: OmnitronSimulator, omnitron_status: str, package: int, item: int
) -> None:
    order = packed_order(engine, omnitron)
    first = order["packages"][0]  # type: ignore[index]
    mark(omnitron, order["items"][first], omnitron_status)  # type: ignore[index]
    poll(engine, omnitron, order["packages"])  # type: ignore[arg-type]
    assert statuses(engine, [first])[first] == (package, package, {package}, {item})
    other = order["packages"][1]  # type: ignore[index]
    assert statuses(engine, [other])[other] == (500, 500, {500}, {450}), "its items still 450"


def test_disagreeing_items_change_nothing_and_the_order_follows_its_items(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    first, second = order["packages"]  # type: ignore[misc]
    a, b = order["items"][first]  # type: ignore[index]
    mark(omnitron, [a], "500")
    mark(omnitron, [b], "550")
    mark(omnitron, order["items"][second], "550")  # type: ignore[index]
    poll(engine, omnitron, [first, second])
    result = statuses(engine, [first, second])
    assert result[first][0] == 500 and result[second][0] == 800
    with engine.connect() as c:
        order_status = c.execute(
            select(t.orders.c.status).where(t.orders.c.number == order["number"])
        ).scalar_one()
    assert order_status == 450, "the order follows its least advanced item"
    mark(omnitron, [a], "550")
    poll(engine, omnitron, [first, second])
    with engine.connect() as c:
        assert (
            c.execute(
                select(t.orders.c.status).where(t.orders.c.number == order["number"])
            ).scalar_one()
            == 550
        )


def test_a_status_that_goes_back_changes_nothing(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    ids = order["packages"]
    for package_id in ids:  # type: ignore[attr-defined]
        mark(omnitron, order["items"][package_id], "550")  # type: ignore[index]
    poll(engine, omnitron, ids)  # type: ignore[arg-type]
    for package_id in ids:  # type: ignore[attr-defined]
        mark(omnitron, order["items"][package_id], "500")  # type: ignore[index]
    poll(engine, omnitron, ids)  # type: ignore[arg-type]
    assert {s[0] for s in statuses(engine, ids).values()} == {800}  # type: ignore[arg-type]
    with engine.connect() as c:
        logged = (
            c.execute(
                select(t.transition_log.c.to_status).where(
                    t.transition_log.c.package_id.in_(ids),
                    t.transition_log.c.slug == "SHIP_THE_PACKAGE",
                )
            )
            .scalars()
            .all()
        )
    assert sorted(logged) == [800, 800]


def test_an_order_omnitron_does_not_know_is_left_for_the_next_cycle(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    ids = stored_order(engine)
    for package_id in ids:
        command(engine, package_id)
    client = OmnitronClient(omnitron.url, "oms", "oms")
    result = poll_service.poll_packages(ids, SqlUnitOfWork(engine), client)
    assert result.moved == [] and len(result.unknown_orders) == 1
    assert {s[0] for s in statuses(engine, ids).values()} == {500}


def test_ticks_follow_the_flag_and_two_schedulers_open_one_cycle(engine: Engine) -> None:
    now = datetime(2031, 1, 1, 12, 0, 30, tzinfo=UTC)
    poll_service.set_auto_run(False, SqlUnitOfWork(engine))
    assert poll_service.tick(now, 60, SqlUnitOfWork(engine), enabled_by_default=True) is None
    poll_service.set_auto_run(True, SqlUnitOfWork(engine))
    cycle = poll_service.tick(now, 60, SqlUnitOfWork(engine), enabled_by_default=False)
    assert cycle == int(now.timestamp()) // 60 * 60
    assert poll_service.tick(now, 60, SqlUnitOfWork(engine), enabled_by_default=False) is None


def test_claims_take_each_due_package_once_per_cycle(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    web = stored_order(engine, channel={"id": 50, "name": "Web", "channel_type": "web"})
    set_status(engine, web[0], PackageStatus.packed)  # packed by other means: still not polled
    claimed: list[int] = []
    with SqlUnitOfWork(engine) as uow:  # the planner's chain: each part after the last
        while batch := uow.polls.claim(2_000_000_100, 1, claimed[-1] if claimed else 0):
            claimed += batch
        uow.commit()
    assert set(order["packages"]) <= set(claimed)  # type: ignore[arg-type]
    assert web[0] not in claimed and len(claimed) == len(set(claimed))
    with SqlUnitOfWork(engine) as uow:  # each part again (redelivered planner messages)
        assert uow.polls.claim(2_000_000_100, 1000) == []
        assert all(uow.polls.claim(2_000_000_100, 1, after) == [] for after in claimed)
    requests.delete(f"{omnitron.url}/sim/requests", timeout=5)


def test_a_new_cycle_forgets_the_planned_parts_of_cycles_a_day_old(engine: Engine) -> None:
    old, recent = 1_900_000_000, 1_900_000_000 + 86_400
    now = datetime.now(UTC)
    with SqlUnitOfWork(engine) as uow:
        for cycle in (old, recent):
            assert uow.polls.open_cycle(cycle, now)
            uow.polls.claim(cycle, 1)
        uow.commit()
    with SqlUnitOfWork(engine) as uow:
        assert uow.polls.open_cycle(recent + 1, now)
        uow.commit()
    with engine.connect() as c:
        parts = t.poll_cycle_parts
        cycles = c.execute(select(parts.c.cycle).where(parts.c.cycle.in_([old, recent])))
        assert sorted(cycles.scalars()) == [recent], "a day and a second old: gone"
