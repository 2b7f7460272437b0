"""`oms import merchant-oms-process FILE` (spec 10.1) and `oms import merchant-order-status FILE
[--ignore-errors] [--start-from N]` (spec 10.2).

The status import calls the merchant-event use case directly, one unit of work per row, like a
worker handling one `oms.merchant` message with source `import`: the row's message id is derived
from the file's SHA-256 and the row number, so a row already applied (a second import of the same
file, or a resume after a crash) returns its first outcome and changes nothing. Reports to
Omnitron that an event causes are outbox rows of the same transaction; the unit of work hands
them to the relay after each commit (see docs/merchant-orders.md, "Imports and exports")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from adapters.persistence.merchants import assign_process
from adapters.queries.merchant_orders import item_owner
from domain.merchant_events import MerchantEvent, trigger_merchant_event
from domain.merchant_oms import MerchantTransitionRecord, Outcome, Source
from domain.ports import UnitOfWork
from flows.csv_files import CsvFile, CsvRow
from flows.merchant_outcome import outcome_line

PROCESS_COLUMNS = ("merchant_reference", "merchant_oms_process_name")
ITEM, EVENT = "merchant_order_item_reference", "merchant_order_item_oms_event_state"
STATUS_COLUMNS = (ITEM, EVENT)
STATUS_OPTIONAL = ("merchant_reference", "merchant_order_reference")

Emit = Callable[[str], None]


@dataclass
class ImportResult:
    succeeded: int  # applied, or skipped (not a failure)
    tried: int  # rows this run looked at
    failed: list[int]  # row numbers that failed
    stopped_at: int | None = None  # without --ignore-errors: the failing row

    @property
    def line(self) -> str:
        return f"Rows processed: {self.succeeded}/{self.tried}"


def import_processes(
    csv_file: CsvFile, engine: Engine, known: set[str], emit: Emit
) -> ImportResult:
    """Validate every row (empty field, unknown process, duplicate merchant), then apply the
    valid ones in one transaction: valid rows apply even when others fail."""
    first_seen: dict[str, int] = {}
    valid: list[CsvRow] = []
    failed: list[int] = []
    for row in csv_file.rows:
        error = row.error
        merchant = row.values.get("merchant_reference", "")
        process = row.values.get("merchant_oms_process_name", "")
        if error is None and merchant in first_seen:
            error = (
                f"{row.where('merchant_reference')}: duplicate merchant {merchant} "
                f"(first on row {first_seen[merchant]})"
            )
        elif error is None and process not in known:
            error = (
                f"{row.where('merchant_oms_process_name')}: unknown process {process!r} "
                f"(known: {', '.join(sorted(known))})"
            )
        if error is None:
            first_seen[merchant] = row.number
            valid.append(row)
        else:
            failed.append(row.number)
            emit(error)
    with engine.begin() as connection:
        for row in valid:
            merchant, process = row.values["merchant_reference"], row.values[PROCESS_COLUMNS[1]]
            before = assign_process(connection, merchant, process)
            change = (
                "new merchant" if before is None else "unchanged" if before == process
                else f"was {before}"
            )  # fmt: skip
            emit(f"row {row.number}: {merchant} -> {process} ({change})")
    return ImportResult(len(valid), len(csv_file.rows), failed)


def row_message_id(csv_file: CsvFile, row: CsvRow) -> str:
    """Deterministic per file content and row (at most 64 characters, the log's column)."""
    return f"import:{csv_file.digest[:40]}:{row.number}"


def import_statuses(
    csv_file: CsvFile, engine: Engine, unit_of_work: Callable[[], UnitOfWork], emit: Emit,
    *, ignore_errors: bool = False, start_from: int = 1,
) -> ImportResult:  # fmt: skip
    """Apply the rows from `start_from` on, in file order, one transaction each. Without
    `ignore_errors` the first failing row stops the run (the rows before it stay applied)."""
    rows = csv_file.rows[start_from - 1 :]
    result = ImportResult(0, len(rows), [])
    for row in rows:
        text, ok = _status_row(csv_file, row, engine, unit_of_work)
        emit(text)
        if ok:
            result.succeeded += 1
            continue
        result.failed.append(row.number)
        if not ignore_errors:
            result.stopped_at = row.number
            break
    return result


def _status_row(
    csv_file: CsvFile, row: CsvRow, engine: Engine, unit_of_work: Callable[[], UnitOfWork]
) -> tuple[str, bool]:
    if row.error is not None:
        return f"{row.error} (malformed row)", False
    reference, event = row.values[ITEM], row.values[EVENT]
    owner = item_owner(engine, reference)
    if owner is None:
        return f"{row.where(ITEM)}: merchant order item {reference} not found", False
    for column, actual in zip(STATUS_OPTIONAL, owner, strict=True):
        given = row.values.get(column, "")
        if given and given != actual:
            return f"{row.where(column)}: {given} does not match item {reference}", False
    request = MerchantEvent(owner[0], owner[1], event, (reference,), Source.import_)
    message_id = row_message_id(csv_file, row)
    result = trigger_merchant_event(request, unit_of_work(), message_id=message_id)
    record = _record_for(result.records, reference)
    if result.repeated:
        if record.outcome is Outcome.rejected:
            return f"row {row.number}: {outcome_line(record)} (already tried)", False
        first = f"{record.outcome.value} {record.from_state} -> {record.to_state}"
        if record.outcome is Outcome.skipped:
            first = f"skipped in state {record.from_state}"
        return (
            f"row {row.number}: {reference} {event}: skipped "
            f"(already imported from this file: {first})",
            True,
        )
    return f"row {row.number}: {outcome_line(record)}", record.outcome is not Outcome.rejected


def _record_for(
    records: list[MerchantTransitionRecord], reference: str
) -> MerchantTransitionRecord:
    """The row's item outcome, or the whole request's rejection (an unknown event)."""
    return next((r for r in records if r.item_reference == reference), records[0])
