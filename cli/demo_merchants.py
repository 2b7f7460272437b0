"""The merchant half of `oms demo` (seed 000): a process import before the orders arrive, a
merchant's cancellation before packing, the carrier's shipped/delivered picked up by one poll
cycle, a refund after delivery imported from CSV; then the tables that show the result."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dramatiq
from sqlalchemy import Engine, func, select

from adapters.messaging.publisher import MERCHANT, publish
from adapters.persistence import tables as t
from adapters.queries.merchant_orders import event_outcomes, process_names
from adapters.queries.orders import identity_holds
from cli.merchant import event_body
from cli.table import format_rows
from domain.model import WEB_CHANNEL_TYPES
from domain.money import format_minor_units
from domain.ports import UnitOfWork
from flows.csv_files import read_csv
from flows.csv_import import (
    PROCESS_COLUMNS,
    STATUS_COLUMNS,
    STATUS_OPTIONAL,
    import_processes,
    import_statuses,
)
from flows.merchant_outcome import outcome_line

Views = Callable[[], list[dict[str, Any]]]
CANCELLED_ITEM = ("TY-100042--MER000002", "TY-100042--MER000002--5002")
REFUNDED_ITEM = "TY-100042--MER000005--5003"
PROCESS_CSV = "merchant_reference,merchant_oms_process_name\nMER000005,MainMerchantStateMachine\n"
BULK = "bulk_status_update"


def wait(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def import_process_file(folder: Path, engine: Engine, uow: UnitOfWork) -> list[str]:
    """merchant_oms_process.csv: MER000005 works in the main merchant's process from now on."""
    path = folder / "merchant_oms_process.csv"
    path.write_text(PROCESS_CSV)
    lines: list[str] = []
    known = set(process_names(uow))
    result = import_processes(
        read_csv(path.read_bytes(), PROCESS_COLUMNS), engine, known, lines.append
    )
    return [f"{path.name}: {line}" for line in lines] + [result.line]


def merchant_cancels(broker: dramatiq.Broker, engine: Engine) -> str:
    """MER000002 cancels its mug on oms.merchant, before packing (spec 9.4's worked example)."""
    message_id = str(uuid.uuid4())
    body = event_body("MER000002", CANCELLED_ITEM[0], "cancel by merchant", [CANCELLED_ITEM[1]])
    publish(broker, *MERCHANT, body, message_id=message_id)
    wait(lambda: bool(event_outcomes(engine, message_id)), "the merchant's cancellation")
    return "; ".join(outcome_line(r) for r in event_outcomes(engine, message_id))


def carrier_moves(simulator: Any, views: list[dict[str, Any]]) -> dict[str, str]:
    """Omnitron's carrier marks live items shipped (500) or delivered (550): the examples'
    TY-100042 delivered and HB-7781 shipped, a random part of the other marketplace orders."""
    rng = random.Random(len(views))
    marked = {"TY-100042": "550", "HB-7781": "500"}
    for view in views:
        if view["channel"]["channel_type"] in WEB_CHANNEL_TYPES or view["number"] in marked:
            continue
        status = rng.choice(["500", "550", "550", None])
        if status:
            marked[view["number"]] = status
    with simulator.state.lock:
        for number, status in marked.items():
            for item in simulator.state.orders[number]["items"]:
                if str(item.get("status")) not in ("100", "600"):
                    item["status"] = status
    return marked


def polled(views: Views, marked: dict[str, str]) -> Callable[[], bool]:
    """True once no package of the marked orders is still only packed."""

    def done() -> bool:
        return all(
            p["status"] != "packed"
            for view in views()
            if view["number"] in marked
            for p in view["packages"]
        )

    return done


def poll_summary(engine: Engine, since: int) -> str:
    log = t.merchant_transition_log
    with engine.connect() as c:
        rows = c.execute(
            select(log.c.event, log.c.outcome, func.count())
            .where(log.c.id > since, log.c.source == "poll")
            .group_by(log.c.event, log.c.outcome)
            .order_by(log.c.event, log.c.outcome)
        ).all()
    return ", ".join(f"{event} {outcome} {n}" for event, outcome, n in rows) or "none"


def last_log_id(engine: Engine) -> int:
    with engine.connect() as c:
        return int(
            c.execute(
                select(func.coalesce(func.max(t.merchant_transition_log.c.id), 0))
            ).scalar_one()
        )


def import_refund(
    folder: Path, engine: Engine, unit_of_work: Callable[[], UnitOfWork]
) -> list[str]:
    """merchant-order-status.csv: MER000005 refunds its delivered lamp."""
    path = folder / "merchant-order-status.csv"
    path.write_text(
        f"{','.join(STATUS_COLUMNS)},merchant_reference\n{REFUNDED_ITEM},refund,MER000005\n"
    )
    csv_file = read_csv(path.read_bytes(), STATUS_COLUMNS, STATUS_OPTIONAL)
    lines: list[str] = []
    result = import_statuses(csv_file, engine, unit_of_work, lines.append, ignore_errors=True)
    return [f"{path.name}: {line}" for line in lines] + [result.line]


def reports_sent(engine: Engine) -> bool:
    with engine.connect() as c:
        unsent = c.execute(
            select(func.count())
            .select_from(t.status_reports)
            .where(t.status_reports.c.sent_at.is_(None))
        ).scalar_one()
    return int(unsent) == 0


def items_table(view: dict[str, Any]) -> str:
    """An order's merchant order items: process, merchant state, the order item's status."""
    statuses = {i["id"]: i["status"] for i in view["items"]}
    rows = [["merchant order item", "process", "state", "order item"]]
    for mo in view["merchant_orders"]:
        for item in mo["merchant_order_items"]:
            rows.append(
                [
                    f"  {item['reference']}",
                    item["process"],
                    item["state"],
                    statuses[item["omnitron_item_id"]],
                ]
            )
    return format_rows(rows)


def orders_table(views: list[dict[str, Any]]) -> str:
    rows = [["order", "channel", "merchant item states", "packages", "grand total", "identity"]]
    for view in views:
        states = Counter(
            i["state"] for mo in view["merchant_orders"] for i in mo["merchant_order_items"]
        )
        packages = Counter(p["status"] for p in view["packages"])
        rows.append(
            [
                view["number"],
                view["channel"]["name"],
                " ".join(f"{s}:{n}" if n > 1 else s for s, n in sorted(states.items())),
                " ".join(f"{s}:{n}" if n > 1 else s for s, n in sorted(packages.items())),
                format_minor_units(view["totals"]["grand_total"], view["currency"]),
                "ok" if identity_holds(view) else "BROKEN",
            ]
        )
    return format_rows(rows, numeric={4})


def omnitron_table(requests: list[dict[str, Any]]) -> str:
    """What Omnitron was told: per status, how many bulk updates and items (and answers)."""
    calls: Counter[str] = Counter()
    items: Counter[str] = Counter()
    answers: dict[str, Counter[int]] = {}
    for request in requests:
        if request["method"] != "PATCH" or BULK not in request["path"]:
            continue
        entries = (request.get("body") or {}).get("orderitem_set", [])
        for status in sorted({str(e["status"]) for e in entries}):
            calls[status] += 1
            items[status] += sum(1 for e in entries if str(e["status"]) == status)
            answers.setdefault(status, Counter())[int(request["status"])] += 1
    rows = [["status", "bulk updates", "items", "answers"]]
    for status in sorted(calls):
        answer = " ".join(f"{code}x{n}" for code, n in sorted(answers[status].items()))
        rows.append([status, str(calls[status]), str(items[status]), answer])
    return format_rows(rows, numeric={1, 2})
