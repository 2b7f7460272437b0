"""One order's history on PostgreSQL and SQLite, from a real flow: ingest, split, commands,
report attempts (one failed), a poll move, a merchant event and dead letters; the lookup by
package number and merchant order reference."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, select

from adapters.omnitron.client import OmnitronClient
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.dead_letters import record_dead_letter
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.history import find_histories
from adapters.queries.orders import find_orders
from domain.merchant_events import MerchantEvent, trigger_merchant_event
from domain.merchant_oms import Source
from domain.omnitron import OmnitronUnavailable
from domain.package_commands import send_status_report
from domain.packaging import COMPLETE_PACKAGING
from tests.integration.test_packaging import command
from tests.integration.test_polling import mark, omnitron, packed_order, poll

__all__ = ["omnitron"]  # the fixture


def report_ids(engine: Engine, package_id: int) -> list[int]:
    with engine.connect() as c:
        return list(
            c.execute(
                select(t.status_reports.c.id)
                .where(t.status_reports.c.package_id == package_id)
                .order_by(t.status_reports.c.id)
            ).scalars()
        )


def message(actor: str, queue: str, body: Any) -> dict[str, Any]:
    return {
        "queue_name": queue,
        "actor_name": actor,
        "args": [body],
        "kwargs": {},
        "options": {},
        "message_id": str(uuid.uuid4()),
        "message_timestamp": 0,
    }


def flow(engine: Engine, omnitron: OmnitronSimulator) -> dict[str, Any]:
    order = packed_order(engine, omnitron)  # ingested, split, both packages packed: 2 reports
    number, (first, second) = order["number"], order["packages"]
    client = OmnitronClient(omnitron.url, "oms", "oms", backoff=0.01, attempts=2)
    (report_1,), (report_2,) = report_ids(engine, first), report_ids(engine, second)
    mark(omnitron, order["items"][first] + order["items"][second], "400")  # before 450 there
    assert send_status_report(report_1, SqlUnitOfWork(engine), client) == "sent"
    requests.post(f"{omnitron.url}/sim/faults", json={"status": 503, "count": 2}, timeout=5)
    with pytest.raises(OmnitronUnavailable):
        send_status_report(report_2, SqlUnitOfWork(engine), client)
    assert send_status_report(report_2, SqlUnitOfWork(engine), client) == "sent"
    mark(omnitron, order["items"][first], "500")
    poll(engine, omnitron, [first, second])  # the first package moves to shipped
    assert not command(engine, second, slug="NO_SUCH_COMMAND").record.applied
    with engine.connect() as c:
        packages = dict(
            c.execute(
                select(t.packages.c.id, t.packages.c.number).where(
                    t.packages.c.id.in_([first, second])
                )
            ).all()
        )
        mo = c.execute(
            select(t.merchant_orders.c.reference, t.merchant_orders.c.merchant_reference)
            .join(t.packages, t.packages.c.merchant_order_id == t.merchant_orders.c.id)
            .where(t.packages.c.id == second)
        ).one()
    event = MerchantEvent(mo.merchant_reference, mo.reference, "no_such_event", None, Source.api)
    trigger_merchant_event(event, SqlUnitOfWork(engine), str(uuid.uuid4()))
    return {
        "number": number,
        "first": packages[first],
        "second": packages[second],
        "merchant_order": mo.reference,
        "reports": (report_1, report_2),
    }


def test_the_timeline_of_one_order_across_stages(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    f = flow(engine, omnitron)
    number = f["number"]
    channel = {"id": 42, "name": "T", "channel_type": "trendyol"}
    bad_ingest = message("ingest_order", "oms.ingest", {"number": number, "channel": channel})
    record_dead_letter(engine, bad_ingest, "invalid message: status: field required")
    report = message("send_status_report", "oms.report", {"report_id": f["reports"][1]})
    record_dead_letter(engine, report, "failed after 20 retries: X", order_number=number)
    elsewhere = message("ingest_order", "oms.ingest", {"number": number, "channel": {"id": 7}})
    record_dead_letter(engine, elsewhere, "invalid message: another channel's order")
    other = message("split_order", "oms.split", {"order_id": 1})
    record_dead_letter(engine, other, "failed: another order", order_number=f"{number}-other")

    (history,) = find_histories(engine, number, None)
    events = history["events"]
    assert history["number"] == number and history["channel"]["id"] == 42
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert events[0]["stage"] == "ingest" and events[0]["what"] == "ingested"
    stages = {e["stage"] for e in events}
    assert stages == {"ingest", "split", "merchant", "packaging", "report", "poll", "dead_letter"}

    split = [e for e in events if e["stage"] == "split"]
    assert {e["package"] for e in split} == {f["first"], f["second"]}

    commands = [e for e in events if e["stage"] == "packaging"]
    assert [(e["what"], e["outcome"]) for e in commands].count((COMPLETE_PACKAGING, "applied")) == 2
    rejected = next(e for e in commands if e["what"] == "NO_SUCH_COMMAND")
    assert rejected["outcome"] == "rejected" and "unknown command slug" in rejected["reason"]
    assert rejected["package"] == f["second"]

    (moved,) = [e for e in events if e["stage"] == "poll"]
    assert (moved["from"], moved["to"], moved["package"]) == ("packed", "shipped", f["first"])
    with engine.connect() as c:  # the log names the package by number, as commands do
        refs = c.execute(
            select(t.transition_log.c.package_ref).where(
                t.transition_log.c.slug == "SHIP_THE_PACKAGE"
            )
        ).scalars()
        assert f["first"] in set(refs)

    attempts = {e["report_id"]: e for e in events if e["stage"] == "report" and "attempts" in e}
    first_report, second_report = (attempts[r] for r in f["reports"])
    assert (first_report["attempts"], first_report["outcome"]) == (1, "sent")
    assert (second_report["attempts"], second_report["outcome"]) == (2, "sent")
    assert second_report["answer"].startswith("accepted: ")
    assert "sent_at" in second_report
    queued = [e for e in events if e["stage"] == "report" and e["what"].endswith("queued")]
    assert {e["report_id"] for e in queued} == set(f["reports"])

    merchant = [e for e in events if e["stage"] == "merchant"]
    refused = next(e for e in merchant if e["what"] == "no_such_event")
    assert (refused["outcome"], refused["source"]) == ("rejected", "api")
    assert refused["merchant_order"] == f["merchant_order"]
    assert any(e["outcome"] == "applied" and "to" in e for e in merchant)  # split's start

    letters = [e for e in events if e["stage"] == "dead_letter"]
    assert sorted(e["queue"] for e in letters) == ["oms.ingest", "oms.report"]
    assert {e["message_id"] for e in letters} == {bad_ingest["message_id"], report["message_id"]}
    assert all(e["outcome"] == "open" for e in letters)


def test_a_failed_attempt_is_recorded_before_the_error_goes_on(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    client = OmnitronClient(omnitron.url, "oms", "oms", backoff=0.01, attempts=2)
    (report_id,) = report_ids(engine, order["packages"][0])
    client.orders([order["number"]])  # logged in: the fault hits the report's own call
    requests.post(f"{omnitron.url}/sim/faults", json={"status": 503, "count": 2}, timeout=5)
    with pytest.raises(OmnitronUnavailable):
        send_status_report(report_id, SqlUnitOfWork(engine), client)
    with engine.connect() as c:
        row = c.execute(select(t.status_reports).where(t.status_reports.c.id == report_id)).one()
    assert (row.attempts, row.sent_at) == (1, None)
    assert row.last_answer.startswith("OmnitronUnavailable: GET ")
    assert "503" in row.last_answer and row.last_attempt_at is not None


def test_an_order_is_found_by_package_number_and_merchant_order_reference(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    number = order["number"]
    with engine.connect() as c:
        package_number, reference = c.execute(
            select(t.packages.c.number, t.merchant_orders.c.reference)
            .join(t.merchant_orders, t.merchant_orders.c.id == t.packages.c.merchant_order_id)
            .where(t.packages.c.id == order["packages"][1])
        ).one()
    for key in (package_number, reference):
        (view,) = find_orders(engine, key, None)
        assert view["number"] == number
        (history,) = find_histories(engine, key, None)
        assert history["number"] == number
    assert find_orders(engine, package_number, 999) == []
    assert find_orders(engine, f"{number}-nothing", None) == []


def test_poll_fired_merchant_events_follow_the_poll_move_that_caused_them(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    """The poll moves a package and fires `ship` on its items in one transaction, so they share
    a time: the move is listed first, then the events it caused (issue 21 item 20)."""
    order = packed_order(engine, omnitron)
    first, second = order["packages"]
    mark(omnitron, order["items"][first] + order["items"][second], "500")
    poll(engine, omnitron, [first, second])

    (history,) = find_histories(engine, order["number"], None)
    events = history["events"]
    moves = [i for i, e in enumerate(events) if e["stage"] == "poll"]
    fired = [i for i, e in enumerate(events) if e["stage"] == "merchant" and e["source"] == "poll"]
    assert len(moves) == 2 and len(fired) == 3, events  # two packages, three items shipped
    for i in fired:
        event = events[i]
        (move,) = [events[m] for m in moves if events[m]["package"] == event["merchant_order"]]
        assert move["at"] == event["at"], "one transaction"
        assert events.index(move) < i, f"{event['what']} listed before the move that fired it"
        between = events[events.index(move) + 1 : i]
        assert all(e["stage"] in ("merchant", "poll") for e in between), between
