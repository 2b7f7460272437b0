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

from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)

from adapters.persistence import tables as t
from adapters.persistence.prepared_reads import ReadStatement
from adapters.persistence.tables import TimeStamp
from adapters.queries.orders import order_ids_for
from domain.polling import POLL_SLUG
from domain.statuses import OrderStatus, PackageStatus

# ties keep the pipeline's order (a poll move's merchant events follow it: _by_cause)
STAGES = ("ingest", "split", "merchant", "packaging", "report", "poll", "dead_letter")


_o, _mo, _p = t.orders, t.merchant_orders, t.packages
_log, _tl, _r, _dl = t.merchant_transition_log, t.transition_log, t.status_reports, t.dead_letters
ORDER: BindParameter[int] = bindparam("order_id")


def _orders(by_channel: bool, dialect: str) -> Any:
    items = (
        select(func.count())
        .where(t.order_items.c.order_id == _o.c.id)
        .scalar_subquery()
        .label("items")
    )
    return (
        select(
            _o.c.id,
            _o.c.number,
            _o.c.channel_id,
            t.channels.c.name.label("channel_name"),
            _o.c.status,
            _o.c.received_at,
            items,
        )
        .join(t.channels, t.channels.c.id == _o.c.channel_id)
        .where(*order_ids_for(by_channel, dialect))
        .order_by(_o.c.channel_id)
    )


ORDERS = {
    by_channel: ReadStatement(_orders(by_channel, "sqlite"), _orders(by_channel, "postgresql"))
    for by_channel in (False, True)
}

_TEXTS = 9
_NUMBERS = 2


def _row(
    stage: str, row_id: Any, at: Any, *, at2: Any = None, at3: Any = None, at4: Any = None,
    texts: dict[int, Any] | None = None, numbers: dict[int, Any] | None = None,
) -> Any:  # fmt: skip
    """One branch of the events' UNION ALL: every branch the same columns (stage, its rank,
    id, four times, nine texts, two numbers), NULL where a stage has nothing."""
    texts, numbers = texts or {}, numbers or {}

    def moment(value: Any, name: str) -> Any:
        return (value if value is not None else cast(null(), TimeStamp)).label(name)

    return select(
        literal(stage, String).label("stage"),
        literal(STAGES.index(stage), Integer).label("rank"),
        row_id.label("id"),
        moment(at, "at"), moment(at2, "at2"), moment(at3, "at3"), moment(at4, "at4"),
        *(cast(texts.get(i, null()), Text).label(f"s{i}") for i in range(_TEXTS)),
        *(cast(numbers.get(i, null()), Integer).label(f"n{i}") for i in range(_NUMBERS)),
    )  # fmt: skip


def _merchant_row() -> Any:
    texts = (
        _log.c.event, _log.c.outcome, _log.c.source, _log.c.from_state, _log.c.to_state,
        _log.c.reason, _log.c.merchant_order_reference, _log.c.item_reference,
        _log.c.message_id,
    )  # fmt: skip
    return _row("merchant", _log.c.id, _log.c.created_at, texts=dict(enumerate(texts)))


PACKAGE_OF_ORDER = (_p.c.order_id == ORDER,)
EVENTS = ReadStatement(
    union_all(
        _row(
            "split",
            _mo.c.id,
            _mo.c.created_at,
            texts={0: _mo.c.reference, 1: _mo.c.merchant_reference, 2: _p.c.number},
        )
        .select_from(_mo.outerjoin(_p, _p.c.merchant_order_id == _mo.c.id))
        .where(_mo.c.order_id == ORDER),
        # the order's own rows, then rows naming one of its merchant orders without the order
        # (two branches, each on an index: an OR of the two read the whole log)
        _merchant_row().where(_log.c.order_id == ORDER),
        _merchant_row().where(
            _log.c.merchant_order_reference.in_(
                select(_mo.c.reference).where(_mo.c.order_id == ORDER)
            ),
            or_(_log.c.order_id.is_(None), _log.c.order_id != ORDER),
        ),
        _row(
            "packaging",
            _tl.c.id,
            _tl.c.created_at,
            texts={
                0: _tl.c.slug,
                1: _tl.c.outcome,
                2: _p.c.number,
                5: _tl.c.reason,
                8: _tl.c.message_id,
            },
            numbers={0: _tl.c.from_status, 1: _tl.c.to_status},
        )
        .select_from(_tl.join(_p, _p.c.id == _tl.c.package_id))
        .where(*PACKAGE_OF_ORDER),
        _row(
            "report",
            _r.c.id,
            _r.c.created_at,
            at2=_r.c.last_attempt_at,
            at3=_r.c.sent_at,
            texts={2: _p.c.number, 5: _r.c.last_answer},
            numbers={0: _r.c.status, 1: _r.c.attempts},
        )
        .select_from(_r.join(_p, _p.c.id == _r.c.package_id))
        .where(*PACKAGE_OF_ORDER),
        _row(
            "dead_letter",
            _dl.c.id,
            _dl.c.first_failed_at,
            at2=_dl.c.last_failed_at,
            at3=_dl.c.resolved_at,
            at4=_dl.c.replayed_at,
            texts={0: _dl.c.queue_name, 5: _dl.c.reason, 8: _dl.c.message_id},
            numbers={0: _dl.c.failures},
        ).where(
            _dl.c.order_number == bindparam("number"),
            or_(
                _dl.c.order_channel_id.is_(None), _dl.c.order_channel_id == bindparam("channel_id")
            ),
        ),
    ).order_by(text("rank"), text("id"))
)


def find_histories(engine: Engine, key: str, channel_id: int | None) -> list[dict[str, Any]]:
    """The timeline of each order the key names (an order number, else a package number or a
    merchant order reference), one per channel unless a channel is given. Two statements for
    one order: the order, then every stage's records in one UNION ALL."""
    params: dict[str, Any] = {"key": key}
    if channel_id is not None:
        params["channel_id"] = channel_id
    with engine.connect() as connection:
        orders = ORDERS[channel_id is not None].rows(connection, params)
        return [history(connection, order) for order in orders]


def history(connection: Connection, order: Any) -> dict[str, Any]:
    rows = EVENTS.rows(
        connection, {"order_id": order.id, "number": order.number, "channel_id": order.channel_id}
    )
    events = [_event(order.received_at, "ingest", "ingested", items=order.items)]
    for row in rows:
        events += BUILDERS[row.stage](row)
    events.sort(key=_by_cause)
    status = OrderStatus(order.status)
    return {
        "id": order.id,
        "number": order.number,
        "channel": {"id": order.channel_id, "name": order.channel_name},
        "status": status.name,
        "status_code": int(status),
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


def _split(row: Any) -> list[dict[str, Any]]:
    return [
        _event(row.at, "split", "merchant order created", merchant_order=row.s0,
               merchant=row.s1, package=row.s2)
    ]  # fmt: skip


def _merchant(row: Any) -> list[dict[str, Any]]:
    return [
        _event(
            row.at, "merchant", row.s0, outcome=row.s1, source=row.s2, from_state=row.s3,
            to_state=row.s4, reason=row.s5 or None, merchant_order=row.s6, item=row.s7 or None,
            message_id=row.s8,
        )
    ]  # fmt: skip


def _transition(row: Any) -> list[dict[str, Any]]:
    return [
        _event(
            row.at,
            "poll" if row.s0 == POLL_SLUG and row.s8 is None else "packaging",
            row.s0, outcome=row.s1, from_state=_package_status(row.n0),
            to_state=_package_status(row.n1), reason=row.s5 or None, package=row.s2,
            message_id=row.s8,
        )
    ]  # fmt: skip


def _report(row: Any) -> list[dict[str, Any]]:
    what = f"report {row.n0} {OrderStatus(row.n0).name}"
    fields = {"report_id": row.id, "package": row.s2}
    events = [_event(row.at, "report", f"{what} queued", **fields)]
    if row.at2 is not None:
        sent = row.at3 is not None
        events.append(
            _event(
                row.at2, "report", f"{what} sent" if sent else f"{what} not sent",
                outcome="sent" if sent else "failed", attempts=row.n1, answer=row.s5,
                sent_at=_time(row.at3) if sent else None, **fields,
            )
        )  # fmt: skip
    return events


def _dead_letter(row: Any) -> list[dict[str, Any]]:
    outcome = "resolved" if row.at3 is not None else "replayed" if row.at4 is not None else "open"
    return [
        _event(
            row.at, "dead_letter", f"dead-lettered on {row.s0}", outcome=outcome,
            reason=row.s5, queue=row.s0, failures=row.n0, last_failed_at=_time(row.at2),
            dead_letter_id=row.id, message_id=row.s8,
        )
    ]  # fmt: skip


BUILDERS = {
    "split": _split,
    "merchant": _merchant,
    "packaging": _transition,
    "report": _report,
    "dead_letter": _dead_letter,
}


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
