"""`oms export merchant-orders --out DIR` (spec 10.3): per merchant, `DIR/{merchant}/` holds
merchant-orders.csv, merchant-order-items.csv and merchant-order-expenses.csv.

Rows stream from the database in batches (adapters/queries/merchant_export.py) ordered by
merchant, so one file is open at a time and memory does not grow with the number of rows; a
merchant's file is opened when its first row comes. Every merchant exported gets all three files
(a header alone when it has no rows of that kind). The three reads share one snapshot on
PostgreSQL (REPEATABLE READ), so the files agree with each other."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TextIO

from sqlalchemy import Connection, Engine

from adapters.queries.merchant_export import (
    EXPENSE_COLUMNS,
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    ExportFilter,
    Row,
    merchant_order_expense_rows,
    merchant_order_item_rows,
    merchant_order_rows,
)

Reader = Callable[[Connection, ExportFilter], Iterator[Row]]
FILES: tuple[tuple[str, Sequence[str], Reader], ...] = (
    ("merchant-orders.csv", ORDER_COLUMNS, merchant_order_rows),
    ("merchant-order-items.csv", ITEM_COLUMNS, merchant_order_item_rows),
    ("merchant-order-expenses.csv", EXPENSE_COLUMNS, merchant_order_expense_rows),
)
PROGRESS_EVERY = 500


def parse_day(text: str, *, end: bool) -> datetime:
    """YYYY-MM-DD (UTC day; an end date includes its whole day) or an ISO date-time."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise SystemExit(f"not a date: {text!r} (expected YYYY-MM-DD)") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


class _Files:
    """One open writer at a time: rows come ordered by merchant."""

    def __init__(self, out: Path, name: str, columns: Sequence[str]):
        self.out, self.name, self.columns = out, name, columns
        self.merchant: str | None = None
        self.handle: IO[str] | None = None
        self.writer: Any = None
        self.counts: dict[str, int] = {}

    def open(self, merchant: str) -> None:
        self.close()
        folder = self.out / merchant
        folder.mkdir(parents=True, exist_ok=True)
        self.handle = (folder / self.name).open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(self.columns)
        self.merchant = merchant
        self.counts.setdefault(merchant, 0)

    def write(self, row: Row) -> None:
        merchant = row["merchant_reference"]
        if merchant != self.merchant:
            self.open(merchant)
        self.writer.writerow([row[c] for c in self.columns])
        self.counts[merchant] += 1

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def export_merchant_orders(
    engine: Engine, out: Path, where: ExportFilter, progress: TextIO | None = None
) -> dict[str, dict[str, int]]:
    """Write the files; returns rows per merchant and file name."""
    merchants: dict[str, dict[str, int]] = {}
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            for name, columns, reader in FILES:
                files = _Files(out, name, columns)
                try:
                    for count, row in enumerate(reader(connection, where), start=1):
                        files.write(row)
                        if progress is not None and count % PROGRESS_EVERY == 0:
                            progress.write(f"\r{name}: {count} rows")
                            progress.flush()
                finally:
                    files.close()
                for merchant in merchants.keys() - files.counts.keys():
                    files.open(merchant)  # a header alone: no rows of this kind
                    files.close()
                for merchant, count in files.counts.items():
                    merchants.setdefault(merchant, {})[name] = count
                if progress is not None:
                    progress.write(f"\r{name}: {sum(files.counts.values())} rows\n")
    for counts in merchants.values():
        for name, _, _ in FILES:
            counts.setdefault(name, 0)
    return merchants


def terminal_progress() -> TextIO | None:
    return sys.stderr if sys.stderr.isatty() else None
