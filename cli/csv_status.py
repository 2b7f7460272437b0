"""`oms import merchant-order-status`: the flow (flows/csv_import.py) run in its units
(flows/csv_status_units.py), each row's line printed as it comes, then the summary."""

from __future__ import annotations

import sys

from adapters.settings import Settings
from flows.csv_files import CsvFile
from flows.csv_import import import_statuses
from flows.csv_status_units import status_import_units


def run_status_import(csv_file: CsvFile, *, ignore_errors: bool, start_from: int) -> int:
    with status_import_units(Settings.from_env()) as (engine, unit_of_work):
        result = import_statuses(
            csv_file, engine, unit_of_work, print, ignore_errors=ignore_errors,
            start_from=start_from,
        )  # fmt: skip
    print(result.line)
    if result.stopped_at is not None:
        print(
            f"oms: stopped at row {result.stopped_at} (the rows before it stay applied); "
            f"fix it and resume with --start-from {result.stopped_at}, or skip it with "
            f"--start-from {result.stopped_at + 1}",
            file=sys.stderr,
        )
        return 1
    if result.failed:
        failed = ", ".join(str(n) for n in result.failed[:20])
        more = " …" if len(result.failed) > 20 else ""
        print(f"oms: {len(result.failed)} rows failed: {failed}{more}", file=sys.stderr)
        return 1
    return 0
