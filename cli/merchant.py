"""`oms merchant event MERCHANT_ORDER EVENT [--items REF,...] [--wait]` and
`oms process show NAME [--dot]`."""

from __future__ import annotations

import time
import uuid

from adapters.messaging.broker import build_broker
from adapters.messaging.publisher import MERCHANT, publish
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.merchant_orders import (
    event_outcomes,
    merchant_order_owner,
    process_names,
    process_rows,
)
from adapters.queries.package_commands import dead_letter_reason
from adapters.settings import Settings
from domain.merchant_oms import Outcome
from flows.merchant_outcome import outcome_line


def event_body(
    merchant: str, merchant_order: str, event: str, items: list[str] | None
) -> dict[str, object]:
    body: dict[str, object] = {
        "merchant_reference": merchant,
        "merchant_order_reference": merchant_order,
        "event": event,
    }
    if items:
        body["item_references"] = items
    return body


def merchant_event(
    merchant_order: str, event: str, items: list[str] | None, *, wait: bool, timeout: float
) -> int:
    """The operator acts for the merchant that owns the merchant order."""
    settings = Settings.from_env()
    if settings.embedded_broker:
        raise SystemExit("oms merchant event needs OMS_BROKER_URL to name a RabbitMQ broker")
    engine = make_engine(settings.database_url, pool_size=1)
    owners = merchant_order_owner(engine, merchant_order)
    if not owners:
        raise SystemExit(f"merchant order {merchant_order} not found")
    if len(owners) > 1:
        raise SystemExit(f"merchant order {merchant_order} has several owners: {owners}")
    broker = build_broker(settings.broker_url, [])
    message_id = str(uuid.uuid4())
    try:
        body = event_body(owners[0], merchant_order, event, items)
        publish(broker, *MERCHANT, body, message_id=message_id)
    finally:
        broker.close()
    if not wait:
        print(f"published {event!r} for {merchant_order} (message {message_id})")
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = event_outcomes(engine, message_id)
        if records:
            for record in records:
                print(outcome_line(record))
            return 1 if any(r.outcome is Outcome.rejected for r in records) else 0
        dead = dead_letter_reason(engine, message_id)
        if dead is not None:
            print(f"rejected: {dead}")
            return 1
        time.sleep(0.2)
    raise SystemExit(f"no outcome for message {message_id} within {timeout:.0f} s: are workers up?")


def process_show(name: str, *, dot: bool) -> int:
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    process = process_rows(SqlUnitOfWork(engine), name)
    if process is None:
        known = ", ".join(process_names(SqlUnitOfWork(engine)))
        raise SystemExit(f"no process {name!r} (known: {known})")
    if dot:
        print(process.dot(), end="")
        return 0
    rows = [("from", "event", "to", "manual")] + [
        (t.source, t.event, t.target, "yes" if t.manual else "no (automatic)")
        for t in process.transitions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print(name)
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    states = sorted(process.states)
    width = max(len("state"), *(len(state) for state in states))
    print()
    print(f"{'state'.ljust(width)}  reserved (spec 9.5: its items hold the merchant's stock)")
    for state in states:
        print(f"{state.ljust(width)}  {'yes' if process.is_reserved(state) else 'no'}")
    return 0
