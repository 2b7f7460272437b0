"""The status poll when Omnitron's answer is malformed for one order of a batch, and when two
batches move packages of one order at once (real PostgreSQL, simulator over HTTP)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from adapters.omnitron.client import OmnitronClient
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import poll_service
from domain.polling import Resolution
from domain.statuses import PackageStatus
from tests.integration.test_polling import mark, omnitron, packed_order, statuses

__all__ = ["omnitron"]  # the fixture


def order_status(engine: Engine, number: object) -> int:
    with engine.connect() as c:
        return int(
            c.execute(select(t.orders.c.status).where(t.orders.c.number == number)).scalar_one()
        )


def test_a_malformed_order_does_not_hold_back_its_batch(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    good, bad = packed_order(engine, omnitron), packed_order(engine, omnitron)
    for order in (good, bad):
        for items in order["items"].values():  # type: ignore[attr-defined]
            mark(omnitron, items, "500")
    with omnitron.state.lock:  # Omnitron sends an item id that is not an integer
        omnitron.state.orders[bad["number"]]["items"][0]["id"] = "x-1"
    ids = [*good["packages"], *bad["packages"]]  # type: ignore[misc]
    client = OmnitronClient(omnitron.url, "oms", "oms", backoff=0.01)
    result = poll_service.poll_packages(ids, SqlUnitOfWork(engine), client)
    moved = sorted(r.package_id for r in result.moved)
    assert moved == sorted(good["packages"])  # type: ignore[call-overload]
    [(number, problem)] = result.malformed_orders
    assert number == bad["number"] and "item id is not an integer" in problem
    assert {s[0] for s in statuses(engine, bad["packages"]).values()} == {500}  # type: ignore[arg-type]
    assert {s[0] for s in statuses(engine, good["packages"]).values()} == {700}  # type: ignore[arg-type]


def test_two_batches_moving_one_orders_packages_keep_its_status(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    first, second = order["packages"]  # type: ignore[misc]
    now = datetime.now(UTC)

    def ship(package_id: int) -> Resolution:
        return Resolution(package_id, "500", PackageStatus.shipped, "Omnitron 500 -> shipped")

    def second_batch() -> None:
        with SqlUnitOfWork(engine) as uow:
            uow.polls.move([ship(second)], now)
            uow.commit()

    with SqlUnitOfWork(engine) as uow:  # batch one moves its package and has not committed
        assert [m.package_id for m in uow.polls.move([ship(first)], now)] == [first]
        other = threading.Thread(target=second_batch)
        other.start()
        other.join(0.5)
        waited = other.is_alive()  # it waits for the order row batch one holds
        uow.commit()
    other.join(10)
    assert not other.is_alive()
    assert {s[3] == {500} for s in statuses(engine, [first, second]).values()} == {True}
    assert order_status(engine, order["number"]) == 500, "every item is 500: the order too"
    assert waited
