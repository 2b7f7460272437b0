"""`oms import merchant-oms-process|merchant-order-status FILE` and `oms export merchant-orders
--out DIR` (spec 10)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.commands import Commands, subcommands

if TYPE_CHECKING:
    from flows.csv_files import CsvFile


def register(commands: Commands) -> None:
    imports = subcommands(commands, "import", "CSV imports (spec 10.1, 10.2; merchant processes)")
    process = imports.add_parser("merchant-oms-process", help="set merchants' processes")
    process.add_argument("file", metavar="FILE", type=Path)
    process.set_defaults(handler=_import_processes)
    definitions = imports.add_parser(
        "merchant-process",
        help="add merchant processes: transitions and each state's reserved flag",
    )
    definitions.add_argument("file", metavar="FILE", type=Path)
    definitions.set_defaults(handler=_import_definitions)
    status = imports.add_parser(
        "merchant-order-status", help="trigger merchant order item events from a CSV file"
    )
    status.add_argument("file", metavar="FILE", type=Path)
    status.add_argument(
        "--ignore-errors", action="store_true", help="try every row; exit 1 if any failed"
    )
    status.add_argument(
        "--start-from", type=int, default=1, metavar="N", help="resume at data row N (1 = first)"
    )
    status.set_defaults(handler=_import_statuses)

    exports = subcommands(commands, "export", "CSV exports (spec 10.3)")
    orders = exports.add_parser("merchant-orders", help="three files per merchant")
    orders.add_argument("--out", required=True, type=Path, metavar="DIR")
    orders.add_argument("--merchant", action="append", default=[], metavar="REF", help="repeatable")
    orders.add_argument("--created-from", metavar="DATE", help="YYYY-MM-DD (UTC), inclusive")
    orders.add_argument("--created-to", metavar="DATE", help="YYYY-MM-DD (UTC), inclusive")
    orders.add_argument(
        "--raw",
        action="store_true",
        help="write text cells as stored (no leading ' before =, +, -, @, tab, CR)",
    )
    orders.set_defaults(handler=_export)


def _read(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> CsvFile:
    from flows.csv_files import CsvFileError, read_csv

    try:
        data = path.read_bytes()
    except OSError as error:
        raise SystemExit(f"cannot read {path}: {error.strerror}") from None
    try:
        csv_file = read_csv(data, required, optional)
    except CsvFileError as error:
        raise SystemExit(f"{path}: {error}") from None
    for note in csv_file.notes:
        print(f"{path}: {note}", file=sys.stderr)
    return csv_file


def _import_processes(args: argparse.Namespace) -> int:
    from adapters.persistence.engine import make_engine
    from adapters.persistence.unit_of_work import SqlUnitOfWork
    from adapters.queries.merchant_orders import process_names
    from adapters.settings import Settings
    from flows.csv_import import PROCESS_COLUMNS, import_processes

    csv_file = _read(args.file, PROCESS_COLUMNS)
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    known = set(process_names(SqlUnitOfWork(engine)))
    result = import_processes(csv_file, engine, known, print)
    print(result.line)
    if result.failed:
        failed = ", ".join(str(n) for n in result.failed[:20])
        more = " …" if len(result.failed) > 20 else ""
        print(
            f"oms: {len(result.failed)} of {result.tried} rows failed: {failed}{more}",
            file=sys.stderr,
        )
        return 1
    return 0


def _import_definitions(args: argparse.Namespace) -> int:
    from adapters.persistence.engine import make_engine
    from adapters.settings import Settings
    from flows.process_definitions import COLUMNS, OPTIONAL, import_process_definitions

    csv_file = _read(args.file, COLUMNS, OPTIONAL)
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    result = import_process_definitions(csv_file, engine)
    for error in result.errors:
        print(error, file=sys.stderr)
    if result.errors:
        print(f"oms: {args.file}: nothing imported ({len(result.errors)} errors)", file=sys.stderr)
        return 1
    for process in result.processes:
        reserved = ", ".join(sorted(process.reserved)) or "none"
        print(
            f"{process.name}: {len(process.transitions)} transitions, "
            f"{len(process.states)} states, reserved: {reserved}"
        )
    print("restart the workers to use them (processes are read once per worker process)")
    return 0


def _import_statuses(args: argparse.Namespace) -> int:
    from cli.csv_status import run_status_import
    from flows.csv_import import STATUS_COLUMNS, STATUS_OPTIONAL

    csv_file = _read(args.file, STATUS_COLUMNS, STATUS_OPTIONAL)
    if not 1 <= args.start_from <= len(csv_file.rows) + 1:
        raise SystemExit(
            f"--start-from {args.start_from}: the file has {len(csv_file.rows)} data rows "
            "(row 1 is the first after the header)"
        )
    return run_status_import(csv_file, ignore_errors=args.ignore_errors, start_from=args.start_from)


def _export(args: argparse.Namespace) -> int:
    from cli.csv_export import run_export

    return run_export(args.out, args.merchant, args.created_from, args.created_to, raw=args.raw)
