"""Reservations on PostgreSQL (spec 9.5), in a database of this module's own (verify reads every
offer of it): the seeded flags, splits of one offer running at once in two transactions, a
merchant event racing a poll batch on one offer, and `oms reservations [verify]` exit codes.
Each concurrent test compares the stored figures with the recomputation afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.orders import find_orders
from adapters.queries.reservations import reservation_of, reservation_page, verify_reservations
from domain import services
from domain.merchant_oms import SHIPPED_RESERVED
from domain.reservations import OFFER, OfferKey
from schemas.convert import parse_inbound_order
from tests import services as test_services
from tests.integration.test_merchants import fire
from tests.integration.test_packaging import ROOT
from tests.integration.test_polling import mark, packed_order, poll

pytestmark = pytest.mark.services

KETTLE = OfferKey("MER000002", OFFER, "offer-12")  # quantity 1 per order of the example
MUG = OfferKey("MER000002", OFFER, "offer-13")  # quantity 2
LAMP = OfferKey("MER000005", OFFER, "offer-77")  # quantity 1


@pytest.fixture(scope="module")
def db() -> Iterator[tuple[str, Engine]]:
    for url in test_services.make_database():
        upgrade(url)
        engine = make_engine(url, pool_size=6)
        try:
            yield url, engine
        finally:
            engine.dispose()


def figure(engine: Engine, key: OfferKey) -> tuple[int, int]:
    found = reservation_of(engine, key)
    return (0, 0) if found is None else (found.quantity, found.open_items)


def ingested(engine: Engine) -> tuple[int, str]:
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text())
    body["number"] = f"RV-{uuid.uuid4().hex[:8]}"
    base = uuid.uuid4().int % 10**12
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
    result = services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine))
    assert result.order_id is not None
    return result.order_id, body["number"]


def at_once(jobs: list[Callable[[], Any]]) -> list[BaseException]:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as error:  # reported to the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_the_migration_flags_the_reserved_states_of_both_processes(
    db: tuple[str, Engine],
) -> None:
    _, engine = db
    with engine.connect() as c:
        rows = c.execute(select(t.merchant_process_states)).all()
    for name, reserved in SHIPPED_RESERVED.items():
        assert {r.state for r in rows if r.process == name and r.reserved} == reserved
        assert {r.state for r in rows if r.process == name} >= {"shipped", "canceled", "closed"}


def test_two_transactions_splitting_for_one_offer_at_once_lose_nothing(
    db: tuple[str, Engine],
) -> None:
    _, engine = db
    before = {key: figure(engine, key) for key in (KETTLE, MUG, LAMP)}
    per_side = 12
    sides = [[ingested(engine)[0] for _ in range(per_side)] for _ in range(2)]

    def split_all(order_ids: list[int]) -> Callable[[], None]:
        def job() -> None:
            for order_id in order_ids:
                services.split_order(order_id, SqlUnitOfWork(engine))

        return job

    assert at_once([split_all(side) for side in sides]) == []
    orders = 2 * per_side
    assert figure(engine, KETTLE) == (before[KETTLE][0] + orders, before[KETTLE][1] + orders)
    assert figure(engine, MUG) == (before[MUG][0] + 2 * orders, before[MUG][1] + orders)
    assert figure(engine, LAMP) == (before[LAMP][0] + orders, before[LAMP][1] + orders)
    assert verify_reservations(engine) == []


def test_a_merchant_event_racing_a_poll_batch_on_one_offer(db: tuple[str, Engine]) -> None:
    _, engine = db
    simulator = OmnitronSimulator()
    simulator.start()
    try:
        for _ in range(4):
            shipped = packed_order(engine, simulator)  # both packages packed
            packages: Any = shipped["packages"]
            items: Any = shipped["items"]
            order_id, number = ingested(engine)
            services.split_order(order_id, SqlUnitOfWork(engine))
            mo = f"{number}--MER000002"
            before = figure(engine, KETTLE), figure(engine, MUG)
            for package in packages:
                mark(simulator, items[package], "500")
            errors = at_once(
                [
                    lambda ids=list(packages): poll(engine, simulator, ids),
                    lambda mo=mo: fire(engine, "cancel by merchant", mo),
                ]
            )
            assert errors == []
            # the poll shipped one order's kettle and mugs, the merchant cancelled the other's
            assert figure(engine, KETTLE) == (before[0][0] - 2, before[0][1] - 2)
            assert figure(engine, MUG) == (before[1][0] - 4, before[1][1] - 2)
            assert verify_reservations(engine) == []
    finally:
        simulator.stop()


def test_the_order_document_says_which_items_reserve(db: tuple[str, Engine]) -> None:
    _, engine = db
    order_id, number = ingested(engine)
    services.split_order(order_id, SqlUnitOfWork(engine))
    fire(engine, "cancel by merchant", f"{number}--MER000002", items=[])  # every item
    (document,) = find_orders(engine, number, None)
    flags = {
        item["reference"]: (item["state"], item["reserves"])
        for mo in document["merchant_orders"]
        for item in mo["merchant_order_items"]
    }
    assert sorted(flags.values()) == [
        ("canceled by merchant", False),
        ("canceled by merchant", False),
        ("new", True),
    ]


def oms(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, "OMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_cli_lists_and_verify_names_each_offer_that_differs(db: tuple[str, Engine]) -> None:
    url, engine = db
    order_id, _ = ingested(engine)
    services.split_order(order_id, SqlUnitOfWork(engine))
    assert oms(url, "reservations", "verify").returncode == 0
    shown = oms(url, "reservations", "--merchant", "MER000005", "--json")
    assert shown.returncode == 0
    rows = json.loads(shown.stdout)
    assert [(r["product_offer_reference"], r["sku"]) for r in rows] == [("offer-77", None)]
    assert rows == [r.as_dict() for r in reservation_page(engine, merchant="MER000005").results]
    unknown = oms(url, "reservations", "--merchant", "NOPE")
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "oms: no merchant NOPE (--merchant)")
    table = oms(url, "reservations", "--offer", "offer-13").stdout
    assert "MER000002" in table and "offer offer-13" in table and "offer-77" not in table
    r = t.product_offer_reservations.c
    with engine.begin() as c:
        for key in (KETTLE, LAMP):
            c.execute(
                update(t.product_offer_reservations)
                .where(r.merchant_reference == key.merchant_reference, r.reference == key.reference)
                .values(quantity=r.quantity + 5)
            )
    try:
        verify = oms(url, "reservations", "verify")
        assert verify.returncode == 1
        named = [line for line in verify.stdout.splitlines() if line.startswith("differs:")]
        assert len(named) == 2
        assert "MER000002 offer offer-12" in named[0] and "MER000005 offer offer-77" in named[1]
    finally:
        with engine.begin() as c:
            for key in (KETTLE, LAMP):
                c.execute(
                    update(t.product_offer_reservations)
                    .where(
                        r.merchant_reference == key.merchant_reference,
                        r.reference == key.reference,
                    )
                    .values(quantity=r.quantity - 5)
                )
    assert oms(url, "reservations", "verify").returncode == 0
