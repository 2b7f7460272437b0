"""One order's timeline: `oms show order NUMBER --history [--json]` and
`GET /api/v1/orders/{number}/history/` (spec sections 8 and 11) read it.

Every stage's record, by time: ingested (orders.received_at), split (one merchant order and its
package each), packaging commands and poll moves (transition_log of its packages), merchant
events (merchant_transition_log), status reports (created, then the last attempt: how many,
Omnitron's answer, sent), and its dead letters (dead_letters.order_number, see
docs/operations.md "One order's history")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, or_, select

from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.orders import lookup
from domain.model import Order
from domain.polling import POLL_SLUG
from domain.statuses import OrderStatus, PackageStatus

# ties keep the pipeline's order (a poll move's merchant events follow it: _by_cause)
STAGES = ("ingest", "split", "merchant", "packaging", "report", "poll", "dead_letter")


def find_histories(engine: Engine, key: str, channel_id: int | None) -> list[dict[str, Any]]:
    """The timeline of each order the key names (an order number, else a package number or a
    merchant order reference), one per channel unless a channel is given."""
    uow = SqlUnitOfWork(engine)
    with uow:
        orders = lookup(uow, key, channel_id)
    with engine.connect() as connection:
        return [history(connection, order) for order in orders]


def history(connection: Connection, order: Order) -> dict[str, Any]:
    assert order.id is not None
    received = connection.execute(
        select(t.orders.c.received_at).where(t.orders.c.id == order.id)
    ).scalar_one()
    events = [_event(received, "ingest", "ingested", items=len(order.items))]
    mos = connection.execute(
        select(
            t.merchant_orders.c.reference,
            t.merchant_orders.c.merchant_reference,
            t.merchant_orders.c.created_at,
            t.packages.c.id.label("package_id"),
            t.packages.c.number.label("package"),
        )
        .outerjoin(t.packages, t.packages.c.merchant_order_id == t.merchant_orders.c.id)
        .where(t.merchant_orders.c.order_id == order.id)
        .order_by(t.merchant_orders.c.id)
    ).all()
    events += [
        _event(
            mo.created_at,
            "split",
            "merchant order created",
            merchant_order=mo.reference,
            merchant=mo.merchant_reference,
            package=mo.package,
        )
        for mo in mos
    ]
    packages = {mo.package_id: mo.package for mo in mos if mo.package_id is not None}
    events += _merchant_events(connection, order.id, [mo.reference for mo in mos])
    events += _transitions(connection, packages)
    events += _reports(connection, packages)
    events += _dead_letters(connection, order)
    events.sort(key=_by_cause)
    return {
        "id": order.id,
        "number": order.number,
        "channel": {"id": order.channel.id, "name": order.channel.name},
        "status": order.status.name,
        "status_code": int(order.status),
        "events": events,
    }


def _by_cause(event: dict[str, Any]) -> tuple[str, int, str, int]:
    """Events by time; in one transaction (one time) the cause before its effects: the
    pipeline's stage order, and a poll move before the merchant events it fired (source
    `poll`, on the items of that package: its number is its merchant order's reference)."""
    if event["stage"] == "merchant" and event.get("source") == "poll":
        return event["at"], STAGES.index("poll"), event.get("merchant_order", ""), 1
    if event["stage"] == "poll":
        return event["at"], STAGES.index("poll"), event.get("package", ""), 0
    return event["at"], STAGES.index(event["stage"]), "", 0


def _merchant_events(
    connection: Connection, order_id: int, references: list[str]
) -> list[dict[str, Any]]:
    log = t.merchant_transition_log
    rows = connection.execute(
        select(log)
        .where(or_(log.c.order_id == order_id, log.c.merchant_order_reference.in_(references)))
        .order_by(log.c.id)
    )
    return [
        _event(
            row.created_at,
            "merchant",
            row.event,
            outcome=row.outcome,
            source=row.source,
            from_state=row.from_state,
            to_state=row.to_state,
            reason=row.reason or None,
            merchant_order=row.merchant_order_reference,
            item=row.item_reference or None,
            message_id=row.message_id,
        )
        for row in rows
    ]


def _transitions(connection: Connection, packages: dict[int, str]) -> list[dict[str, Any]]:
    log = t.transition_log
    rows = connection.execute(
        select(log).where(log.c.package_id.in_(list(packages))).order_by(log.c.id)
    )
    return [
        _event(
            row.created_at,
            "poll" if row.slug == POLL_SLUG and row.message_id is None else "packaging",
            row.slug,
            outcome=row.outcome,
            from_state=_package_status(row.from_status),
            to_state=_package_status(row.to_status),
            reason=row.reason or None,
            package=packages.get(row.package_id, row.package_ref),
            message_id=row.message_id,
        )
        for row in rows
    ]


def _reports(connection: Connection, packages: dict[int, str]) -> list[dict[str, Any]]:
    reports = t.status_reports
    rows = connection.execute(
        select(reports).where(reports.c.package_id.in_(list(packages))).order_by(reports.c.id)
    )
    events = []
    for row in rows:
        what = f"report {row.status} {OrderStatus(row.status).name}"
        fields = {"report_id": row.id, "package": packages.get(row.package_id)}
        events.append(_event(row.created_at, "report", f"{what} queued", **fields))
        if row.last_attempt_at is None:
            continue
        events.append(
            _event(
                row.last_attempt_at,
                "report",
                f"{what} sent" if row.sent_at is not None else f"{what} not sent",
                outcome="sent" if row.sent_at is not None else "failed",
                attempts=row.attempts,
                answer=row.last_answer,
                sent_at=None if row.sent_at is None else _time(row.sent_at),
                **fields,
            )
        )
    return events


def _dead_letters(connection: Connection, order: Order) -> list[dict[str, Any]]:
    letters = t.dead_letters
    rows = connection.execute(
        select(letters)
        .where(
            letters.c.order_number == order.number,
            or_(
                letters.c.order_channel_id.is_(None),
                letters.c.order_channel_id == order.channel.id,
            ),
        )
        .order_by(letters.c.id)
    )
    return [
        _event(
            row.first_failed_at,
            "dead_letter",
            f"dead-lettered on {row.queue_name}",
            outcome="resolved"
            if row.resolved_at is not None
            else "replayed"
            if row.replayed_at is not None
            else "open",
            reason=row.reason,
            queue=row.queue_name,
            failures=row.failures,
            last_failed_at=_time(row.last_failed_at),
            dead_letter_id=row.id,
            message_id=row.message_id,
        )
        for row in rows
    ]


def _package_status(code: int | None) -> str | None:
    return None if code is None else PackageStatus(code).name


RENAMED = {"from_state": "from", "to_state": "to"}


def _event(at: datetime, stage: str, what: str, **fields: Any) -> dict[str, Any]:
    """{at, stage, what} and the fields that have a value (from/to: the states moved)."""
    event = {"at": _time(at), "stage": stage, "what": what}
    event.update({RENAMED.get(k, k): v for k, v in fields.items() if v is not None})
    return event


def _time(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()
