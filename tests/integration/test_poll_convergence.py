"""Issue 21 item 7 on the real statements (spec 9.4): the poll applies Omnitron's 100/600 itself,
a line that ended never moves with its package again, a package with no live item is not read
again, and the poll forces merchant items whose state lacks its event."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from tests.integration.test_polling import mark, omnitron, packed_order, poll, statuses

__all__ = ["omnitron"]  # the fixture, used by name


def _lines(engine: Engine, item_ids: list[int]) -> list[tuple[int, str]]:
    """(order item status, merchant state) per Omnitron item id, in the given order."""
    oi, moi = t.order_items, t.merchant_order_items
    with engine.connect() as c:
        rows = dict(
            (r.omnitron_id, (r.status, r.state))
            for r in c.execute(
                select(oi.c.omnitron_id, oi.c.status, moi.c.state)
                .join(moi, moi.c.order_item_id == oi.c.id)
                .where(oi.c.omnitron_id.in_(item_ids))
            )
        )
    return [rows[i] for i in item_ids]


def _ending_reports(engine: Engine) -> int:
    with engine.connect() as c:
        reports = t.status_reports
        return len(c.execute(select(reports.c.id).where(reports.c.status.in_([100, 600]))).all())


def _loaded(engine: Engine, package_id: int) -> list[int]:
    with SqlUnitOfWork(engine) as uow:
        return [p.package_id for p in uow.polls.load([package_id])]


def test_the_poll_ends_what_omnitron_ended_and_never_moves_it_back(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    package = order["packages"][0]  # MER000002's: two items
    first, second = order["items"][package]
    reports = _ending_reports(engine)
    mark(omnitron, [first], "100")
    mark(omnitron, [second], "500")
    poll(engine, omnitron, [package])
    assert _lines(engine, [first, second]) == [(100, "canceled"), (500, "shipped")]
    assert statuses(engine, [package])[package] == (700, 700, {950, 700}, {100, 500})
    mark(omnitron, [second], "600")
    poll(engine, omnitron, [package])
    assert _lines(engine, [first, second]) == [(100, "canceled"), (600, "refunded")]
    assert statuses(engine, [package])[package][:2] == (700, 700)  # with the carrier: stays
    assert _loaded(engine, package) == []  # no live item: not read again
    mark(omnitron, [first, second], "550")
    poll(engine, omnitron, [package])
    assert _lines(engine, [first, second]) == [(100, "canceled"), (600, "refunded")]
    assert _ending_reports(engine) == reports  # Omnitron announced both: no echo


def test_a_refunded_line_stays_refunded_while_its_package_is_delivered(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    package = order["packages"][0]
    first, second = order["items"][package]
    mark(omnitron, [first], "600")
    mark(omnitron, [second], "500")
    poll(engine, omnitron, [package])
    mark(omnitron, [second], "550")
    poll(engine, omnitron, [package])
    assert _lines(engine, [first, second]) == [(600, "refunded"), (550, "delivered")]
    assert statuses(engine, [package])[package][:2] == (800, 800)


def test_the_poll_forces_an_item_whose_state_lacks_the_event(
    engine: Engine, omnitron: OmnitronSimulator
) -> None:
    order = packed_order(engine, omnitron)
    package = order["packages"][1]  # MER000005's: one item
    (item,) = order["items"][package]
    moi = t.merchant_order_items
    with engine.begin() as c:
        c.execute(
            update(moi)
            .where(moi.c.reference.like(f"%--{item}"))
            .values(process="MainMerchantStateMachine", state="left the merchant location")
        )
    mark(omnitron, [item], "550")
    poll(engine, omnitron, [package])
    assert _lines(engine, [item]) == [(550, "delivered")]
    log = t.merchant_transition_log
    with engine.connect() as c:
        rows = c.execute(
            select(log.c.event, log.c.outcome, log.c.from_state, log.c.to_state)
            .where(log.c.item_reference.like(f"%--{item}"), log.c.source == "poll")
            .order_by(log.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("deliver", "forced", "left the merchant location", "delivered")
    ]
