"""The CSV imports (spec 10.1, 10.2): `oms import merchant-oms-process` and `oms import
merchant-order-status` run them; a web page can run the same functions. Each yields one
`RowResult` per row, in file order, after that row's own transaction (so a row reported as
applied stays applied), and the `import_*` functions sum them up in an `ImportReport`.

Every row is its own transaction. A row the database refuses (a value too long for its column,
a constraint) is that row's error; control characters, which PostgreSQL cannot store (NUL) or
no reference holds, are refused by the reader (flows/csv_files.py). A blank line is skipped and
counted as such: it is neither a failure nor a reason to stop.

The status import calls the merchant-event use case directly, one unit of work per row, like a
worker handling one `oms.merchant` message with source `import`: the row's message id is derived
from the file's SHA-256 and the row number, so a row already applied (a second import of the same
file, or a resume after a crash) returns its first outcome and changes nothing. Reports to
Omnitron that an event causes are outbox rows of the same transaction; the unit of work hands
them to the relay after each commit (see docs/merchant-orders.md, "Imports and exports")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError

from adapters.persistence.merchants import assign_process
from adapters.queries.merchant_orders import item_owner
from domain.merchant_events import MerchantEvent, trigger_merchant_event
from domain.merchant_oms import MerchantTransitionRecord, Outcome, Source
from domain.ports import UnitOfWork
from flows.csv_files import CsvFile, CsvRow
from flows.csv_folders import plain_reference
from flows.merchant_outcome import outcome_line

PROCESS_COLUMNS = ("merchant_reference", "merchant_oms_process_name")
ITEM, EVENT = "merchant_order_item_reference", "merchant_order_item_oms_event_state"
STATUS_COLUMNS = (ITEM, EVENT)
STATUS_OPTIONAL = ("merchant_reference", "merchant_order_reference")
REFUSED = (DataError, IntegrityError)  # what the database says about a row's values
REFERENCE_RULE = (
    "not a merchant reference (1..64 characters of A-Z a-z 0-9 . _ -, not starting or ending "
    'with "-" or ".", no "--")'
)

Emit = Callable[[str], None]


class RowStatus(Enum):
    applied = "applied"
    skipped = "skipped"  # not a failure: a blank line, an event the item is already past
    failed = "failed"


@dataclass(frozen=True)
class RowResult:
    number: int  # 1 = the first data row
    status: RowStatus
    text: str  # the row's line as the command prints it
    blank: bool = False

    @property
    def failed(self) -> bool:
        return self.status is RowStatus.failed


@dataclass
class ImportReport:
    tried: int  # rows this run covers (from --start-from to the end of the file)
    succeeded: int = 0  # applied or skipped, blank lines included
    failed: list[int] = field(default_factory=list)  # row numbers that failed
    blank: int = 0  # blank lines skipped
    stopped_at: int | None = None  # without --ignore-errors: the failing row

    def add(self, result: RowResult) -> None:
        if result.failed:
            self.failed.append(result.number)
        else:
            self.succeeded += 1

    @property
    def line(self) -> str:
        return f"Rows processed: {self.succeeded}/{self.tried}"


def _blank(row: CsvRow) -> RowResult:
    return RowResult(row.number, RowStatus.skipped, f"{row.where()}: blank line, skipped", True)


def _refused(row: CsvRow, error: DataError | IntegrityError) -> RowResult:
    """The database's own words, first line only (its DETAIL line would repeat the values)."""
    reason = (str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0]
    text = f"{row.where()}: the database refused the row: {reason}"
    return RowResult(row.number, RowStatus.failed, text)


def _tally(results: Iterator[RowResult], report: ImportReport, emit: Emit | None,
           stop_on_failure: bool) -> ImportReport:  # fmt: skip
    for result in results:
        report.add(result)
        report.blank += result.blank
        if emit is not None:
            emit(result.text)
        if result.failed and stop_on_failure:
            report.stopped_at = result.number
            break
    return report


# -- merchant-oms-process (10.1) ---------------------------------------------------------------


def process_rows(csv_file: CsvFile, engine: Engine, known: set[str]) -> Iterator[RowResult]:
    """Each row checked (empty field, merchant reference, duplicate merchant, unknown process)
    and, when valid, applied in a transaction of its own."""
    first_seen: dict[str, int] = {}
    for row in csv_file.rows:
        yield _process_row(row, engine, known, first_seen)


def _process_row(
    row: CsvRow, engine: Engine, known: set[str], first_seen: dict[str, int]
) -> RowResult:
    if row.blank:
        return _blank(row)
    failed = RowStatus.failed
    if row.error is not None:
        return RowResult(row.number, failed, row.error)
    merchant, process = (row.values[c] for c in PROCESS_COLUMNS)
    if not plain_reference(merchant):
        return RowResult(row.number, failed, f"{row.where(PROCESS_COLUMNS[0])}: {REFERENCE_RULE}")
    if merchant in first_seen:
        text = f"duplicate merchant {merchant} (first on row {first_seen[merchant]})"
        return RowResult(row.number, failed, f"{row.where(PROCESS_COLUMNS[0])}: {text}")
    if process not in known:
        text = f"unknown process {process!r} (known: {', '.join(sorted(known))})"
        return RowResult(row.number, failed, f"{row.where(PROCESS_COLUMNS[1])}: {text}")
    first_seen[merchant] = row.number
    try:
        with engine.begin() as connection:
            before = assign_process(connection, merchant, process)
    except REFUSED as error:
        return _refused(row, error)
    change = "new merchant" if before is None else "unchanged" if before == process else (
        f"was {before}"
    )  # fmt: skip
    return RowResult(
        row.number, RowStatus.applied, f"row {row.number}: {merchant} -> {process} ({change})"
    )


def import_processes(
    csv_file: CsvFile, engine: Engine, known: set[str], emit: Emit | None = None
) -> ImportReport:
    """Every row tried: valid rows apply even when others fail."""
    report = ImportReport(len(csv_file.rows))
    return _tally(process_rows(csv_file, engine, known), report, emit, stop_on_failure=False)


# -- merchant-order-status (10.2) --------------------------------------------------------------


def row_message_id(csv_file: CsvFile, row: CsvRow) -> str:
    """Deterministic per file content and row (at most 64 characters, the log's column)."""
    return f"import:{csv_file.digest[:40]}:{row.number}"


def status_rows(
    csv_file: CsvFile, engine: Engine, unit_of_work: Callable[[], UnitOfWork],
    *, start_from: int = 1,
) -> Iterator[RowResult]:  # fmt: skip
    """The rows from `start_from` on, in file order, each applied when the caller asks for it
    (a generator: a caller that stops reading stops the import)."""
    for row in csv_file.rows[start_from - 1 :]:
        if row.blank:
            yield _blank(row)
            continue
        try:
            status, text = _status_row(csv_file, row, engine, unit_of_work)
        except REFUSED as error:
            yield _refused(row, error)
            continue
        yield RowResult(row.number, status, text)


def import_statuses(
    csv_file: CsvFile, engine: Engine, unit_of_work: Callable[[], UnitOfWork],
    emit: Emit | None = None, *, ignore_errors: bool = False, start_from: int = 1,
) -> ImportReport:  # fmt: skip
    """Without `ignore_errors` the first failing row stops the run (the rows before it stay
    applied)."""
    report = ImportReport(len(csv_file.rows) - (start_from - 1))
    rows = status_rows(csv_file, engine, unit_of_work, start_from=start_from)
    return _tally(rows, report, emit, stop_on_failure=not ignore_errors)


def _status_row(
    csv_file: CsvFile, row: CsvRow, engine: Engine, unit_of_work: Callable[[], UnitOfWork]
) -> tuple[RowStatus, str]:
    failed, skipped = RowStatus.failed, RowStatus.skipped
    if row.error is not None:
        return failed, f"{row.error} (malformed row)"
    reference, event = row.values[ITEM], row.values[EVENT]
    owner = item_owner(engine, reference)
    if owner is None:
        return failed, f"{row.where(ITEM)}: merchant order item {reference} not found"
    for column, actual in zip(STATUS_OPTIONAL, owner, strict=True):
        given = row.values.get(column, "")
        if given and given != actual:
            return failed, f"{row.where(column)}: {given} does not match item {reference}"
    request = MerchantEvent(owner[0], owner[1], event, (reference,), Source.import_)
    message_id = row_message_id(csv_file, row)
    result = trigger_merchant_event(request, unit_of_work(), message_id=message_id)
    record = _record_for(result.records, reference)
    if result.repeated:
        if record.outcome is Outcome.rejected:
            return failed, f"row {row.number}: {outcome_line(record)} (already tried)"
        first = f"{record.outcome.value} {record.from_state} -> {record.to_state}"
        if record.outcome is Outcome.skipped:
            first = f"skipped in state {record.from_state}"
        return skipped, (
            f"row {row.number}: {reference} {event}: skipped "
            f"(already imported from this file: {first})"
        )
    status = {Outcome.rejected: failed, Outcome.skipped: skipped}.get(
        record.outcome, RowStatus.applied
    )
    return status, f"row {row.number}: {outcome_line(record)}"


def _record_for(
    records: list[MerchantTransitionRecord], reference: str
) -> MerchantTransitionRecord:
    """The row's item outcome, or the whole request's rejection (an unknown event)."""
    return next((r for r in records if r.item_reference == reference), records[0])
