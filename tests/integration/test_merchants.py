"""The merchant side on a real database, PostgreSQL and SQLite (spec 9): the seeded processes,
merchant order items and their log, events with their effects, the transition log keyed by
message id, concurrent events on one order, the poll's events, and the backfill migration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, select, text

from adapters.persistence import tables as t
from adapters.persistence.migrate import upgrade
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.orders import find_orders, identity_holds
from domain import services
from domain.merchant_events import EventResult, MerchantEvent, trigger_merchant_event
from domain.merchant_oms import SHIPPED_PROCESSES, Outcome, Source
from schemas.convert import parse_inbound_order
from tests import services as test_services
from tests.integration.test_packaging import ROOT

pytestmark = pytest.mark.services


def two_merchant_order(engine: Engine, **item_status: str) -> dict[str, Any]:
    """The worked example under a fresh number and item ids, ingested and split."""
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text())
    body["number"] = f"MX-{uuid.uuid4().hex[:8]}"
    body.pop("amount")  # Omnitron's grand total leaves out items that arrive cancelled
    base = uuid.uuid4().int % 10**12
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
        item["status"] = item_status.get(f"i{offset}", "400")
    ingested = services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine))
    assert ingested.order_id is not None
    services.split_order(ingested.order_id, SqlUnitOfWork(engine))
    number = body["number"]
    return {
        "number": number,
        "mo2": f"{number}--MER000002",
        "mo5": f"{number}--MER000005",
        "items": [f"{number}--MER00000{2 if i < 2 else 5}--{base + i}" for i in range(3)],
        "body": body,
    }


def view(engine: Engine, number: str) -> dict[str, Any]:
    (order,) = find_orders(engine, number, None)
    return order


def fire(engine: Engine, event: str, mo: str, merchant: str = "MER000002",
         items: list[str] | None = None, message_id: str | None = None) -> EventResult:  # fmt: skip
    request = MerchantEvent(merchant, mo, event, tuple(items) if items else None, Source.merchant)
    return trigger_merchant_event(request, SqlUnitOfWork(engine), message_id or str(uuid.uuid4()))


def test_the_migration_seeds_both_processes_exactly(engine: Engine) -> None:
    with engine.connect() as c:
        rows = c.execute(select(t.merchant_transitions)).all()
    seeded = {(r.process, r.source_state, r.event, r.target_state, r.manual) for r in rows}
    expected = {
        (x.process, x.source, x.event, x.target, x.manual)
        for rows_ in SHIPPED_PROCESSES.values()
        for x in rows_
    }
    assert seeded == expected


def test_split_stores_merchants_items_and_their_start_in_the_log(engine: Engine) -> None:
    order = two_merchant_order(engine, i0="100")
    document = view(engine, order["number"])
    mo2 = document["merchant_orders"][0]
    assert [(i["reference"], i["state"]) for i in mo2["merchant_order_items"]] == [
        (order["items"][0], "canceled"),
        (order["items"][1], "new"),
    ]
    assert mo2["states"] == ["canceled", "new"]
    # what would be applied only: a merchant does not `ship` a marketplace item (spec 9.1)
    assert mo2["manual_events"] == ["cancel by merchant", "close"]
    assert [len(p["items"]) for p in document["packages"]] == [1, 1]  # no item for the cancelled
    with engine.connect() as c:
        log = c.execute(
            select(t.merchant_transition_log.c.event, t.merchant_transition_log.c.to_state)
            .where(t.merchant_transition_log.c.item_reference == order["items"][1])
            .order_by(t.merchant_transition_log.c.id)
        ).all()
        process = c.execute(
            select(t.merchants.c.oms_process).where(t.merchants.c.reference == "MER000002")
        ).scalar_one()
    assert [tuple(r) for r in log] == [("create", "created"), ("initiate", "new")]
    assert process == "MerchantDefaultStateMachine"


def test_worked_example_and_its_log_on_the_database(engine: Engine) -> None:
    order = two_merchant_order(engine)
    result = fire(engine, "cancel by merchant", order["mo2"], items=[order["items"][1]])
    assert [r.outcome for r in result.records] == [Outcome.applied]
    document = view(engine, order["number"])
    totals = document["merchant_orders"][0]["totals"]
    assert (totals["canceled_total"], totals["tax_total"], totals["grand_total"]) == (
        4500,
        1765,
        10590,
    )
    assert document["totals"]["grand_total"] == 31090
    assert document["totals"]["tax_total"] == 5181
    assert identity_holds(document)
    assert [p["items"][1]["status"] for p in document["packages"][:1]] == ["cancelled"]
    assert document["items"][1]["status_code"] == 100

    fire(engine, "cancel by merchant", order["mo2"], items=[order["items"][0]])
    document = view(engine, order["number"])
    assert document["merchant_orders"][0]["totals"]["grand_total"] == 0
    assert document["totals"]["grand_total"] == 20500
    assert document["packages"][0]["status"] == "cancelled"
    assert identity_holds(document)
    with engine.connect() as c:
        reports = c.execute(
            select(t.status_reports.c.status, t.status_reports.c.item_ids).order_by(
                t.status_reports.c.id
            )
        ).all()
    mine = [
        r for r in reports if r.item_ids[0] in {int(i.rsplit("--", 1)[1]) for i in order["items"]}
    ]
    assert [(r.status, len(r.item_ids)) for r in mine] == [(100, 1), (100, 1)]


def test_a_redelivered_event_returns_the_first_outcomes_and_changes_nothing(engine: Engine) -> None:
    order = two_merchant_order(engine)
    first = fire(
        engine, "cancel by merchant", order["mo2"], message_id="redelivered-" + order["number"]
    )
    before = view(engine, order["number"])
    again = fire(
        engine, "cancel by merchant", order["mo2"], message_id="redelivered-" + order["number"]
    )
    assert again.repeated
    assert [r.as_dict() for r in again.records] == [r.as_dict() for r in first.records]
    assert view(engine, order["number"]) == before


def test_a_foreign_merchant_changes_nothing_and_learns_nothing(engine: Engine) -> None:
    order = two_merchant_order(engine)
    before = view(engine, order["number"])
    result = fire(engine, "cancel by merchant", order["mo5"], merchant="MER000002")
    assert [(r.outcome, r.reason) for r in result.records] == [
        (Outcome.rejected, f"merchant order {order['mo5']} not found")
    ]
    assert view(engine, order["number"]) == before


def test_concurrent_events_on_two_items_of_one_order_lose_no_update(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time; the row lock is PostgreSQL's")
    for _ in range(5):
        order = two_merchant_order(engine)
        errors = _at_once(
            engine,
            [
                (order["mo2"], "MER000002", order["items"][1]),
                (order["mo5"], "MER000005", order["items"][2]),
            ],
        )
        assert errors == []
        document = view(engine, order["number"])
        assert document["totals"]["canceled_total"] == 4500 + 20000
        assert identity_holds(document)


def _at_once(engine: Engine, cancels: list[tuple[str, str, str]]) -> list[BaseException]:
    """Cancel each (merchant order, merchant, item) in its own thread, all at once."""
    barrier = threading.Barrier(len(cancels))
    errors: list[BaseException] = []

    def cancel(mo: str, merchant: str, item: str) -> None:
        try:
            barrier.wait()
            fire(engine, "cancel by merchant", mo, merchant, [item])
        except BaseException as error:  # reported to the test
            errors.append(error)

    threads = [threading.Thread(target=cancel, args=args) for args in cancels]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_the_poll_fires_ship_and_deliver_on_live_items(engine: Engine) -> None:
    from adapters.omnitron.simulator import OmnitronSimulator
    from tests.integration.test_polling import mark, packed_order, poll

    simulator = OmnitronSimulator()
    simulator.start()
    try:
        order = packed_order(engine, simulator)
        package = order["packages"][0]
        mark(simulator, order["items"][package], "550")
        poll(engine, simulator, [package])
    finally:
        simulator.stop()
    number = order["number"]
    document = view(engine, number)
    assert document["packages"][0]["status"] == "delivered"
    assert document["merchant_orders"][0]["states"] == ["delivered"]
    assert document["merchant_orders"][1]["states"] == ["new"]
    with engine.connect() as c:
        log = c.execute(
            select(t.merchant_transition_log.c.event, t.merchant_transition_log.c.source)
            .join(t.orders, t.orders.c.id == t.merchant_transition_log.c.order_id)
            .where(t.orders.c.number == number, t.merchant_transition_log.c.source == "poll")
            .order_by(t.merchant_transition_log.c.id)
        ).all()
    assert [tuple(r) for r in log] == [("ship", "poll")] * 2 + [("deliver", "poll")] * 2


def test_a_re_sent_order_cancels_its_cancelled_items(engine: Engine) -> None:
    order = two_merchant_order(engine)
    body = dict(order["body"])
    body["items"] = [dict(i) for i in body["items"]]
    body["items"][2]["status"] = "100"
    result = services.ingest_order(
        parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine), "rs-" + order["number"]
    )
    assert not result.created
    assert [(r.event, r.outcome, r.source) for r in result.updates] == [
        ("cancel", Outcome.applied, Source.marketplace)
    ]
    document = view(engine, order["number"])
    assert document["merchant_orders"][1]["states"] == ["canceled"]
    assert document["packages"][1]["status"] == "cancelled"
    assert identity_holds(document)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_migration_0004_backfills_orders_split_before_it(dialect: str, tmp_path: Any) -> None:
    urls = (
        iter([f"sqlite:///{tmp_path}/old.sqlite3"])
        if dialect == "sqlite"
        else test_services.make_database()
    )
    for url in urls:
        upgrade(url, "0003")
        engine = create_engine(url)
        try:
            with engine.begin() as c:
                c.execute(
                    insert(t.channels).values(
                        id=42,
                        name="T",
                        channel_type="trendyol",
                        created_at=text("CURRENT_TIMESTAMP"),
                    )
                )
                order_id = c.execute(
                    text(
                        "INSERT INTO orders (channel_id, number, status, currency, date_placed,"
                        " extra, subtotal, expense_total, discount_total, canceled_total,"
                        " refund_total, tax_total, grand_total, split, received_at) VALUES"
                        " (42, 'OLD-1', 400, 'try', CURRENT_TIMESTAMP, '{}', 0, 0, 0, 0, 0, 0,"
                        " 0, true, CURRENT_TIMESTAMP) RETURNING id"
                    )
                ).scalar_one()
                for omnitron_id, merchant, status in ((71, "MAIN", 550), (72, "MER9", 100)):
                    c.execute(
                        text(
                            "INSERT INTO order_items (order_id, omnitron_id, sku, name,"
                            " merchant_reference, quantity, price, tax_rate, discount_amount,"
                            " status, extra) VALUES (:o, :i, 'S', 'N', :m, 1, 100, '0', 0, :s,"
                            " '{}')"
                        ),
                        {"o": order_id, "i": omnitron_id, "m": merchant, "s": status},
                    )
                for merchant in ("MAIN", "MER9"):
                    c.execute(
                        text(
                            "INSERT INTO merchant_orders (order_id, channel_id, reference,"
                            " merchant_reference, subtotal, expense_total, discount_total,"
                            " canceled_total, refund_total, tax_total, grand_total, created_at)"
                            " VALUES (:o, 42, :r, :m, 0, 0, 0, 0, 0, 0, 0, CURRENT_TIMESTAMP)"
                        ),
                        {"o": order_id, "r": f"OLD-1--{merchant}", "m": merchant},
                    )
            upgrade(url)
            with engine.connect() as c:
                items = c.execute(
                    select(
                        t.merchant_order_items.c.reference,
                        t.merchant_order_items.c.state,
                        t.merchant_order_items.c.process,
                    ).order_by(t.merchant_order_items.c.id)
                ).all()
                merchants = dict(
                    c.execute(select(t.merchants.c.reference, t.merchants.c.oms_process)).all()
                )
        finally:
            engine.dispose()
        assert [tuple(i) for i in items] == [
            ("OLD-1--MAIN--71", "delivered", "MainMerchantStateMachine"),
            ("OLD-1--MER9--72", "canceled", "MerchantDefaultStateMachine"),
        ]
        assert merchants == {
            "MAIN": "MainMerchantStateMachine",
            "MER9": "MerchantDefaultStateMachine",
        }


def test_process_show_prints_the_rows_or_dot(engine: Engine) -> None:
    # a process of its own: main() in-process would bind the session's logging to pytest's
    # captured stderr
    url = engine.url.render_as_string(hide_password=False)

    def oms(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env={**os.environ, "OMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    shown = oms("process", "show", "MainMerchantStateMachine")
    assert shown.returncode == 0, shown.stderr
    lines, states = shown.stdout.split("\n\n")
    lines = lines.splitlines()
    assert lines[0] == "MainMerchantStateMachine"
    assert lines[1].split() == ["from", "event", "to", "manual"]
    assert len(lines) == 2 + len(SHIPPED_PROCESSES["MainMerchantStateMachine"])
    # then each state with its reserved flag (spec 9.5)
    flags = {line.rsplit(None, 1)[0].strip(): line.split()[-1] for line in states.splitlines()[1:]}
    assert {state for state, flag in flags.items() if flag == "yes"} == {
        "created", "new", "left the merchant location", "arrived at distribution center",
    }  # fmt: skip
    assert flags["shipped"] == flags["canceled"] == "no"
    assert any(
        line.split() == ["created", "initiate", "new", "no", "(automatic)"] for line in lines
    )
    dot = oms("process", "show", "MerchantDefaultStateMachine", "--dot").stdout
    assert dot.startswith('digraph "MerchantDefaultStateMachine" {') and dot.count("->") == 14
    assert dot.count('xlabel="reserved"') == 2  # created, new
    refused = oms("process", "show", "Nope")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "no process 'Nope' (known: MainMerchantStateMachine, MerchantDefaultStateMachine)"
    )


def test_the_merchant_stage_runs_its_own_queue_and_has_a_procfile_line() -> None:
    from cli.worker import STAGES

    assert STAGES["merchant"] == ("workers.merchant", ["oms.merchant"])
    procfile = (ROOT / "Procfile").read_text().splitlines()
    assert any(line.startswith("merchant: oms worker merchant") for line in procfile)


def test_find_merchant_order_answers_only_its_owner(engine: Engine) -> None:
    from adapters.queries.merchant_orders import find_merchant_order

    order = two_merchant_order(engine)
    mine = find_merchant_order(SqlUnitOfWork(engine), order["mo5"], "MER000005")
    assert mine is not None
    assert mine == view(engine, order["number"])["merchant_orders"][1]
    assert mine["manual_events"] == ["cancel by merchant"]  # no `ship` on a marketplace item
    assert find_merchant_order(SqlUnitOfWork(engine), order["mo5"], "MER000002") is None
    assert find_merchant_order(SqlUnitOfWork(engine), "NOPE--MER000002", "MER000002") is None
