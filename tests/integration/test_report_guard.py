"""The report stage reads the order from Omnitron before it reports 450 (real PostgreSQL,
simulator over HTTP): a late or replayed 450 never moves shipped or cancelled items back."""

from __future__ import annotations

from sqlalchemy import Engine, select

from adapters.omnitron.client import OmnitronClient
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain.package_commands import send_status_report, still_before
from domain.statuses import OrderStatus
from tests.integration.test_polling import mark, omnitron, packed_order

__all__ = ["omnitron"]  # the fixture


def report_of(engine: Engine, package_id: int) -> tuple[int, object]:
    with engine.connect() as c:
        row = c.execute(
            select(t.status_reports.c.id, t.status_reports.c.sent_at).where(
                t.status_reports.c.package_id == package_id
            )
        ).one()
    return row.id, row.sent_at


def send(engine: Engine, omnitron: OmnitronSimulator, report_id: int) -> str:
    client = OmnitronClient(omnitron.url, "oms", "oms", backoff=0.01)
    return send_status_report(report_id, SqlUnitOfWork(engine), client)


def item_statuses(omnitron: OmnitronSimulator, ids: list[int]) -> dict[int, str]:
    with omnitron.state.lock:
        return {i: omnitron.state.item(i)["status"] for i in ids}


def patches(omnitron: OmnitronSimulator) -> list[object]:
    return [r["body"] for r in omnitron.requests() if r["method"] == "PATCH"]


def test_a_late_450_is_not_sent_over_items_the_carrier_shipped(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)  # packed in OMS; polling off: it stays packed
    first = order["packages"][0]  # type: ignore[index]
    items: list[int] = order["items"][first]  # type: ignore[index]
    mark(omnitron, items, "500")  # the carrier marked them shipped before the report went out
    report_id, _ = report_of(engine, first)
    assert send(engine, omnitron, report_id) == "superseded"
    assert item_statuses(omnitron, items) == dict.fromkeys(items, "500")
    assert patches(omnitron) == []
    assert report_of(engine, first)[1] is not None  # done: not sent again


def test_only_the_items_still_before_450_are_reported(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    first = order["packages"][0]  # type: ignore[index]
    shipped, waiting = order["items"][first]  # type: ignore[index]
    mark(omnitron, [shipped], "500")
    mark(omnitron, [waiting], "400")
    report_id, _ = report_of(engine, first)
    assert send(engine, omnitron, report_id) == "sent"
    assert item_statuses(omnitron, [shipped, waiting]) == {shipped: "500", waiting: "450"}
    assert patches(omnitron) == [{"orderitem_set": [{"id": waiting, "status": "450"}]}]
    assert send(engine, omnitron, report_id) == "already_sent"


def test_which_omnitron_statuses_a_450_may_follow() -> None:
    preparing = OrderStatus.preparing
    assert [still_before(s, preparing) for s in (None, "200", "400", "449")] == [True] * 4
    assert not any(still_before(s, preparing) for s in ("450", "500", "550", "100", "50", "x"))
