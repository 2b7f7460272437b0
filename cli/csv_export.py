"""`oms export merchant-orders` (spec 10.3): the options read, the flow run
(flows/csv_export.py), its report printed; progress on stderr when it is a terminal."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from adapters.persistence.engine import make_engine
from adapters.queries.merchant_export import ExportFilter
from adapters.settings import Settings
from flows.csv_export import (
    ExportError,
    NotAFolder,
    Progress,
    UnknownMerchants,
    export_merchant_orders,
)


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


def terminal_progress() -> Progress | None:
    if not sys.stderr.isatty():
        return None

    def show(name: str, rows: int, done: bool) -> None:
        sys.stderr.write(f"\r{name}: {rows} rows" + ("\n" if done else ""))
        sys.stderr.flush()

    return show


def run_export(
    out: Path, merchants: list[str], created_from: str | None, created_to: str | None,
    *, raw: bool,
) -> int:  # fmt: skip
    where = ExportFilter(
        tuple(dict.fromkeys(merchants)),
        parse_day(created_from, end=False) if created_from else None,
        parse_day(created_to, end=True) if created_to else None,
    )
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    try:
        report = export_merchant_orders(engine, out, where, raw=raw, progress=terminal_progress())
    except ExportError as error:
        print(f"oms: {_words(error)}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    for files in report.merchants.values():
        numbers = ", ".join(f"{n} {name}" for name, n in files.rows.items())
        print(f"{out / files.folder}: {numbers}")
    print(f"exported {len(report.merchants)} merchants to {out}")
    return 0


def _words(error: ExportError) -> str:
    """The flow's refusal in the command's terms (its options)."""
    if isinstance(error, UnknownMerchants):
        unknown = ", ".join(error.references)
        return f"no merchant {unknown} (--merchant); nothing was exported"
    if isinstance(error, NotAFolder):
        return f"--out {error}"
    return str(error)
