"""The CSV imports on a real database (spec 10.1, 10.2): processes set and merchants created,
row errors, events in file order with source import, --ignore-errors, --start-from, and a second
import of the same file that changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.merchant_orders import process_names
from flows.csv_files import read_csv
from flows.csv_import import (
    PROCESS_COLUMNS,
    STATUS_COLUMNS,
    STATUS_OPTIONAL,
    ImportReport,
    import_processes,
    import_statuses,
)
from tests.integration.csv_support import WEB, count, item_ref, states, two_merchant_order

STATUS_HEADER = ",".join(STATUS_COLUMNS)


def run_import(engine: Engine, text: str, **options: Any) -> tuple[ImportReport, list[str]]:
    csv_file = read_csv(text.encode(), STATUS_COLUMNS, STATUS_OPTIONAL)
    lines: list[str] = []
    result = import_statuses(
        csv_file, engine, lambda: SqlUnitOfWork(engine), lines.append, **options
    )
    return result, lines


def test_process_import_sets_creates_and_keeps_valid_rows_despite_errors(engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    one, two, new, bad = (f"M{n}{tag}" for n in range(4))
    merchants = {"MER000002": one, "MER000005": two}
    two_merchant_order(engine, merchants)  # creates both merchants in the default process
    data = (
        "merchant_reference,merchant_oms_process_name\n"
        f"{one},MainMerchantStateMachine\n"
        f"{two},MerchantDefaultStateMachine\n"
        f"{new},MainMerchantStateMachine\n"
        f"{one},MerchantDefaultStateMachine\n"
        f"{bad},Nope\n"
    )
    lines: list[str] = []
    known = set(process_names(SqlUnitOfWork(engine)))
    result = import_processes(read_csv(data.encode(), PROCESS_COLUMNS), engine, known, lines.append)
    assert lines == [  # in file order, each after its own transaction
        f"row 1: {one} -> MainMerchantStateMachine (was MerchantDefaultStateMachine)",
        f"row 2: {two} -> MerchantDefaultStateMachine (unchanged)",
        f"row 3: {new} -> MainMerchantStateMachine (new merchant)",
        f"row 4 (line 5), column merchant_reference: duplicate merchant {one} (first on row 1)",
        "row 5 (line 6), column merchant_oms_process_name: unknown process 'Nope' "
        "(known: MainMerchantStateMachine, MerchantDefaultStateMachine)",
    ]
    assert (result.line, result.failed) == ("Rows processed: 3/5", [4, 5])
    with engine.connect() as c:
        stored = dict(c.execute(select(t.merchants.c.reference, t.merchants.c.oms_process)).all())
    assert stored[one] == stored[new] == "MainMerchantStateMachine"
    assert stored[two] == "MerchantDefaultStateMachine"
    assert bad not in stored
    # later merchant orders use the new process; existing items keep theirs
    body = two_merchant_order(engine, merchants)
    with engine.connect() as c:
        process = c.execute(
            select(t.merchant_order_items.c.process).where(
                t.merchant_order_items.c.reference == item_ref(body, 0)
            )
        ).scalar_one()
    assert process == "MainMerchantStateMachine"


def test_status_rows_apply_in_file_order_with_source_import(engine: Engine) -> None:
    body = two_merchant_order(engine, channel=WEB)
    a, b, c = (item_ref(body, i) for i in range(3))
    result, lines = run_import(
        engine,
        f"{STATUS_HEADER},merchant_reference\n"
        f"{a},ship,MER000002\n{a},deliver,\n{b},cancel by merchant,\n{b},ship,\n{c},refund,\n",
    )
    assert lines == [
        f"row 1: {a} ship: applied (new -> shipped)",
        f"row 2: {a} deliver: applied (shipped -> delivered)",
        f"row 3: {b} cancel by merchant: applied (new -> canceled by merchant)",
        f"row 4: {b} ship: skipped: state 'canceled by merchant' has no event 'ship'",
        f"row 5: {c} refund: skipped: state 'new' has no event 'refund'",
    ]
    assert (result.line, result.failed, result.stopped_at) == ("Rows processed: 5/5", [], None)
    assert states(engine, body) == ["delivered", "canceled by merchant", "new"]
    log = t.merchant_transition_log
    with engine.connect() as conn:
        rows = conn.execute(
            select(log.c.source, log.c.message_id)
            .where(log.c.item_reference.in_([a, b]))
            .where(log.c.event.not_in(["create", "initiate"]))
            .order_by(log.c.id)
        ).all()
    assert {r.source for r in rows} == {"import"}
    assert [r.message_id.rsplit(":", 1)[1] for r in rows] == ["1", "2", "3", "4"]


def test_importing_the_same_file_twice_changes_nothing(engine: Engine) -> None:
    body = two_merchant_order(engine, channel=WEB)
    a = item_ref(body, 0)
    # start-return then cancel-return would loop the item back: only the message ids stop a
    # second import from doing it again
    text = f"{STATUS_HEADER}\n{a},ship\n{a},deliver\n{a},start-return\n{a},cancel-return\n"
    first, _ = run_import(engine, text)
    assert first.line == "Rows processed: 4/4"
    logged = count(engine, t.merchant_transition_log)
    before = states(engine, body)
    second, lines = run_import(engine, text)
    assert second.line == "Rows processed: 4/4" and second.failed == []
    assert all(": skipped (already imported from this file: applied " in x for x in lines), lines
    assert (states(engine, body), count(engine, t.merchant_transition_log)) == (before, logged)
    assert before[0] == "delivered"


def test_without_ignore_errors_the_first_failure_stops_and_start_from_resumes(
    engine: Engine,
) -> None:
    body = two_merchant_order(engine)  # a marketplace order: ship comes from the carrier only
    a, b, c = (item_ref(body, i) for i in range(3))
    text = (
        f"{STATUS_HEADER},merchant_order_reference\n"
        f"{a},cancel by merchant,\n"
        f"NOPE--1,cancel by merchant,\n"
        f"{b},ship,\n"
        f"{c},cancel by merchant,{body['number']}--MER000002\n"
        f"{c},\n"
        f"{c},cancel,\n"
        f"{c},fly,\n"
        f"{c},cancel by merchant,\n"
    )
    result, lines = run_import(engine, text)
    assert lines == [
        f"row 1: {a} cancel by merchant: applied (new -> canceled by merchant)",
        "row 2 (line 3), column merchant_order_item_reference: merchant order item NOPE--1 "
        "not found",
    ]
    assert (result.line, result.stopped_at) == ("Rows processed: 1/8", 2)
    assert states(engine, body) == ["canceled by merchant", "new", "new"]

    result, lines = run_import(engine, text, start_from=3, ignore_errors=True)
    assert lines == [
        f"row 3: {b} ship: rejected: shipping status of marketplace orders comes from the "
        "channel's carrier",
        f"row 4 (line 5), column merchant_order_reference: {body['number']}--MER000002 does not "
        f"match item {c}",
        "row 5 (line 6): 2 fields, the header has 3 (malformed row)",
        f"row 6: {c} cancel: rejected: event 'cancel' is not manual in "
        "MerchantDefaultStateMachine: only the pipeline raises it",
        f"row 7: merchant order {body['number']}--MER000005 fly: rejected: unknown event 'fly'",
        f"row 8: {c} cancel by merchant: applied (new -> canceled by merchant)",
    ]
    assert (result.line, result.failed, result.stopped_at) == (
        "Rows processed: 1/6",
        [3, 4, 5, 6, 7],
        None,
    )
    assert states(engine, body) == ["canceled by merchant", "new", "canceled by merchant"]
    # the cancellation's report to Omnitron (100) is an outbox row of the same transaction
    with engine.connect() as conn:
        reports = conn.execute(select(t.status_reports.c.status)).scalars().all()
    assert 100 in reports
