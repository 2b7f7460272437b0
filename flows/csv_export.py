"""The merchant order export (spec 10.3): per merchant, a folder under DIR holding
merchant-orders.csv, merchant-order-items.csv and merchant-order-expenses.csv. `oms export
merchant-orders` runs it; a web page can run the same function on a folder of its own.

Rows stream from the database in batches (adapters/queries/merchant_export.py) ordered by
merchant, so one file is open at a time and memory does not grow with the number of rows. Every
merchant exported gets all three files (a header alone when it has no rows of that kind). The
reads share one snapshot on PostgreSQL (REPEATABLE READ), so the files agree with each other.

Before any file is written: every `--merchant` must name a known merchant, DIR must be (or
become) a folder, and every merchant's folder is made and checked (flows/csv_folders.py).
Text cells beginning with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading `'`
(OWASP's CSV-injection rule) unless `raw`; numbers are written as they are."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine

from adapters.queries.merchant_export import (
    EXPENSE_COLUMNS,
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    ExportFilter,
    Row,
    exported_merchants,
    merchant_order_expense_rows,
    merchant_order_item_rows,
    merchant_order_rows,
    unknown_merchants,
)
from flows.csv_folders import ExportError, MerchantFolders

Reader = Callable[[Connection, ExportFilter], Iterator[Row]]
FILES: tuple[tuple[str, Sequence[str], Reader], ...] = (
    ("merchant-orders.csv", ORDER_COLUMNS, merchant_order_rows),
    ("merchant-order-items.csv", ITEM_COLUMNS, merchant_order_item_rows),
    ("merchant-order-expenses.csv", EXPENSE_COLUMNS, merchant_order_expense_rows),
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 500

# (file name, rows written so far, whether that file is done)
Progress = Callable[[str, int, bool], None]


class UnknownMerchants(ExportError):
    def __init__(self, references: list[str]):
        self.references = references
        super().__init__(f"no merchant {', '.join(references)}; nothing was exported")


class NotAFolder(ExportError):
    def __init__(self, out: Path, why: str):
        self.out = out
        super().__init__(f"{out}: {why}")


@dataclass
class MerchantFiles:
    folder: str  # its folder's name under DIR
    rows: dict[str, int] = field(default_factory=dict)  # file name -> rows written


@dataclass
class ExportReport:
    out: Path
    merchants: dict[str, MerchantFiles]  # by merchant reference, sorted


def neutralize(value: Any) -> Any:
    """A text cell a spreadsheet would read as a formula, as text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Writer:
    """One file name across merchants, one open file at a time: rows come ordered by merchant."""

    def __init__(self, folders: MerchantFolders, name: str, columns: Sequence[str], raw: bool):
        self.folders, self.name, self.columns, self.raw = folders, name, columns, raw
        self.merchant: str | None = None
        self.handle: IO[str] | None = None
        self.writer: Any = None
        self.counts: dict[str, int] = {}

    def open(self, merchant: str) -> None:
        self.close()
        again = merchant in self.counts  # rows out of order: add to what it wrote, never wipe
        self.handle = self.folders.open(merchant, self.name, append=again)
        self.writer = csv.writer(self.handle)
        if not again:
            self.writer.writerow(self.columns)
            self.counts[merchant] = 0
        self.merchant = merchant

    def write(self, row: Row) -> None:
        merchant = row["merchant_reference"]
        if merchant != self.merchant:
            self.open(merchant)
        cells = [row[c] for c in self.columns]
        self.writer.writerow(cells if self.raw else [neutralize(c) for c in cells])
        self.counts[merchant] += 1

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        self.merchant = None


def _prepare(out: Path) -> MerchantFolders:
    if out.exists() and not out.is_dir():
        raise NotAFolder(out, "is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NotAFolder(out, f"cannot be made a folder: {error.strerror}") from None
    return MerchantFolders(out)


def export_merchant_orders(
    engine: Engine,
    out: Path,
    where: ExportFilter,
    *,
    raw: bool = False,
    progress: Progress | None = None,
) -> ExportReport:
    """Write the files; raises ExportError (nothing more written) when it cannot."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            unknown = unknown_merchants(connection, where.merchants)
            if unknown:
                raise UnknownMerchants(unknown)
            folders = _prepare(out)
            for merchant in sorted({*exported_merchants(connection, where), *where.merchants}):
                folders.folder(merchant)  # every folder made and checked before any file
            counts = {
                kind[0]: _write_file(connection, where, folders, kind, raw, progress)
                for kind in FILES
            }
    merchants = {
        merchant: MerchantFiles(
            folder.name, {name: counts[name].get(merchant, 0) for name, _, _ in FILES}
        )
        for merchant, folder in sorted(folders.folders().items())
    }
    return ExportReport(out, merchants)


def _write_file(
    connection: Connection,
    where: ExportFilter,
    folders: MerchantFolders,
    kind: tuple[str, Sequence[str], Reader],
    raw: bool,
    progress: Progress | None,
) -> dict[str, int]:
    name, columns, reader = kind
    writer = _Writer(folders, name, columns, raw)
    count = 0
    try:
        for count, row in enumerate(reader(connection, where), start=1):
            writer.write(row)
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(name, count, False)
        for merchant in [m for m in folders.folders() if m not in writer.counts]:
            writer.open(merchant)  # a header alone: no rows of this kind
    finally:
        writer.close()
    if progress is not None:
        progress(name, count, True)
    return writer.counts
