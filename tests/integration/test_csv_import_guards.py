"""The CSV imports against input the database cannot store (issue 21, items 10, 11 and 20;
spec 10.1, 10.2): an over-long field or a NUL is that row's error, never a traceback, never
undoes a row already reported as applied, and `--ignore-errors` goes on to the later rows;
a blank line is skipped and counted as such, not a failure."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

import flows.csv_import
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain.merchant_events import MerchantEvent
from domain.ports import UnitOfWork
from flows.csv_files import read_csv
from flows.csv_import import (
    PROCESS_COLUMNS,
    STATUS_COLUMNS,
    STATUS_OPTIONAL,
    RowStatus,
    import_statuses,
    process_rows,
)
from tests.integration.csv_support import WEB, item_ref, oms, states, two_merchant_order

pytestmark = pytest.mark.services

STATUS_HEADER = "merchant_order_item_reference,merchant_order_item_oms_event_state\n"


@pytest.fixture
def db(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("OMS_BROKER_URL", "stub://")  # no relay: reports stay in the outbox
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


def processes(db: Engine, references: list[str]) -> dict[str, str]:
    with db.connect() as c:
        found = c.execute(
            select(t.merchants.c.reference, t.merchants.c.oms_process).where(
                t.merchants.c.reference.in_(references)
            )
        ).all()
    return dict(found)  # type: ignore[arg-type]


def test_process_import_keeps_valid_rows_around_rows_the_database_cannot_store(
    db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    first, last = f"N1{tag}", f"N2{tag}"
    long = "L" * 129
    path = tmp_path / "processes.csv"
    path.write_text(
        "merchant_reference,merchant_oms_process_name\n"
        f"{first},MainMerchantStateMachine\n"
        f"{long},MainMerchantStateMachine\n"
        f"N\x00{tag},MainMerchantStateMachine\n"
        "\n"
        f"{last},MerchantDefaultStateMachine\n"
    )

    code, stdout, stderr = oms(capsys, "import", "merchant-oms-process", str(path))

    assert code == 1
    lines = stdout.splitlines()
    assert lines[0] == f"row 1: {first} -> MainMerchantStateMachine (new merchant)"
    assert lines[1].startswith("row 2 (line 3), column merchant_reference: "), lines
    assert lines[2] == ("row 3 (line 4), column merchant_reference: control character U+0000")
    assert lines[3] == "row 4 (line 5): blank line, skipped"
    assert lines[4] == f"row 5: {last} -> MerchantDefaultStateMachine (new merchant)"
    assert lines[5] == "Rows processed: 3/5"
    assert stderr.strip() == "oms: 2 of 5 rows failed: 2, 3"
    assert processes(db, [first, last, long]) == {
        first: "MainMerchantStateMachine",
        last: "MerchantDefaultStateMachine",
    }


def test_status_import_ignore_errors_tries_every_row_past_unstorable_ones(
    db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = two_merchant_order(db, channel=WEB)
    a, b, c = (item_ref(body, i) for i in range(3))
    path = tmp_path / "status.csv"
    path.write_text(
        STATUS_HEADER
        + f"{a},ship\n"
        + f"{b}\x00,cancel by merchant\n"
        + f"{b},{'x' * 101}\n"  # longer than any event (the log's column holds 100)
        + "\n"
        + f"{c},cancel by merchant\n"
    )

    code, stdout, stderr = oms(
        capsys, "import", "merchant-order-status", str(path), "--ignore-errors"
    )

    assert code == 1
    assert stdout.splitlines() == [
        f"row 1: {a} ship: applied (new -> shipped)",
        "row 2 (line 3), column merchant_order_item_reference: control character U+0000 "
        "(malformed row)",
        f"row 3: merchant order {body['number']}--MER000002 {'x' * 101}: rejected: unknown "
        f"event '{'x' * 101}'",
        "row 4 (line 5): blank line, skipped",
        f"row 5: {c} cancel by merchant: applied (new -> canceled by merchant)",
        "Rows processed: 3/5",
    ]
    assert stderr.strip() == "oms: 2 rows failed: 2, 3"
    assert states(db, body) == ["shipped", "new", "canceled by merchant"]


def test_status_import_stops_at_an_unstorable_row_and_not_at_a_blank_line(
    db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = two_merchant_order(db, channel=WEB)
    a, b = item_ref(body, 0), item_ref(body, 1)
    path = tmp_path / "status.csv"
    path.write_text(STATUS_HEADER + f"\n{a},ship\n  \n{b},ship\x07\n{b},ship\n")

    code, stdout, stderr = oms(capsys, "import", "merchant-order-status", str(path))

    assert code == 1
    assert stdout.splitlines() == [
        "row 1 (line 2): blank line, skipped",
        f"row 2: {a} ship: applied (new -> shipped)",
        "row 3 (line 4): blank line, skipped",
        "row 4 (line 5), column merchant_order_item_oms_event_state: control character "
        "U+0007 (malformed row)",
        "Rows processed: 3/5",
    ]
    assert "stopped at row 4" in stderr
    assert states(db, body)[:2] == ["shipped", "new"]

    path.write_text(STATUS_HEADER + f"{a},deliver\n\n")
    code, stdout, stderr = oms(capsys, "import", "merchant-order-status", str(path))
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[-1] == "Rows processed: 2/2"


def test_a_row_the_database_refuses_is_that_rows_error_in_the_process_flow(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the reference check (switched off here), PostgreSQL itself refuses a 129-character
    reference: that row fails with the database's words, the rows around it stay applied."""
    monkeypatch.setattr("flows.csv_import.plain_reference", lambda reference: True)
    tag = uuid.uuid4().hex[:6].upper()
    long = f"L{tag}" + "x" * 122
    data = (
        f"merchant_reference,merchant_oms_process_name\n{tag}A,MainMerchantStateMachine\n"
        f"{long},MainMerchantStateMachine\n{tag}B,MainMerchantStateMachine\n"
    )
    csv_file = read_csv(data.encode(), PROCESS_COLUMNS)
    results = list(process_rows(csv_file, db, {"MainMerchantStateMachine"}))
    assert [(r.number, r.status) for r in results] == [
        (1, RowStatus.applied), (2, RowStatus.failed), (3, RowStatus.applied),
    ]  # fmt: skip
    assert results[1].text == (
        "row 2 (line 3): the database refused the row: value too long for type "
        "character varying(128)"
    )
    assert set(processes(db, [f"{tag}A", long, f"{tag}B"])) == {f"{tag}A", f"{tag}B"}


def test_a_row_the_database_refuses_is_that_rows_error_in_the_status_flow(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data error raised by PostgreSQL inside a row's transaction (here a division by zero
    for the event `explode`): that row fails, the next rows run with ignore_errors, and
    without it the run stops there; no report line is lost."""
    body = two_merchant_order(db, channel=WEB)
    a, b = item_ref(body, 0), item_ref(body, 1)
    real = flows.csv_import.trigger_merchant_event

    def trigger(request: MerchantEvent, uow: UnitOfWork, **kwargs: Any) -> Any:
        if request.event == "explode":
            with db.connect() as c:
                c.execute(text("SELECT 1 / 0"))
        return real(request, uow, **kwargs)

    monkeypatch.setattr("flows.csv_import.trigger_merchant_event", trigger)
    data = f"{STATUS_HEADER}{a},ship\n{b},explode\n{b},ship\n".encode()
    csv_file = read_csv(data, STATUS_COLUMNS, STATUS_OPTIONAL)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(db)

    stopped = import_statuses(csv_file, db, uow)
    assert (stopped.line, stopped.failed, stopped.stopped_at) == ("Rows processed: 1/3", [2], 2)
    lines: list[str] = []
    report = import_statuses(csv_file, db, uow, lines.append, ignore_errors=True, start_from=2)
    assert lines == [
        "row 2 (line 3): the database refused the row: division by zero",
        f"row 3: {b} ship: applied (new -> shipped)",
    ]
    assert (report.line, report.failed) == ("Rows processed: 1/2", [2])
    assert states(db, body)[:2] == ["shipped", "shipped"]
