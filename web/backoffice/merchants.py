"""Back Office merchants and processes (spec 9.1, 10, 12): merchants with their process; assign
one (a one-row merchant_oms_process.csv run through `oms import merchant-oms-process`'s code);
upload merchant_oms_process.csv or merchant-order-status.csv and see the per-row report of §10
(the code of `oms import`: flows/csv_import.py); each process drawn by web/process_svg.py with
its reserved states marked."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.backoffice_merchants import merchant_page, processes
from adapters.queries.merchant_orders import process_names
from flows.csv_files import CsvFile, CsvFileError, read_csv
from flows.csv_import import (
    PROCESS_COLUMNS,
    STATUS_COLUMNS,
    STATUS_OPTIONAL,
    ImportReport,
    import_processes,
    import_statuses,
)
from flows.csv_status_units import status_import_units
from web.auth import WebError, check_change
from web.backoffice.access import Ctx, area_router
from web.process_svg import process_svg
from web.rendering import render

router = area_router()
MAX_UPLOAD = 1024 * 1024  # the API's body limit (api/guards.py) stops larger ones first
KINDS = {
    "merchant-oms-process": "merchant_oms_process.csv (set merchants' processes, §10.1)",
    "merchant-order-status": "merchant-order-status.csv (merchant order item events, §10.2)",
}


@router.get("/merchants/")
def merchants(
    request: Request, ctx: Ctx, after: Annotated[str | None, Query(max_length=128)] = None
) -> Response:
    rows, next_after = merchant_page(ctx.reads, after=after)
    return render(
        request, "backoffice/merchants.html", merchants=rows, next_after=next_after,
        names=process_names(SqlUnitOfWork(ctx.engine)), kinds=KINDS,
    )  # fmt: skip


@router.get("/processes/")
def process_pictures(request: Request, ctx: Ctx) -> Response:
    found = processes(ctx.reads)
    pictures = [
        (p, process_svg(p, None, f"Merchant process {p.name}", prefix=f"p{i}"))
        for i, p in enumerate(found)
    ]
    return render(request, "backoffice/processes.html", pictures=pictures)


def _one_row(merchant: str, process: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([PROCESS_COLUMNS, (merchant, process)])
    return out.getvalue().encode("utf-8")


def _import_processes(ctx: Ctx, csv_file: CsvFile) -> tuple[ImportReport, list[str]]:
    lines: list[str] = []
    known = set(process_names(SqlUnitOfWork(ctx.engine)))
    report = import_processes(csv_file, ctx.engine, known, lines.append)
    return report, lines


def _import_statuses(ctx: Ctx, csv_file: CsvFile) -> tuple[ImportReport, list[str]]:
    lines: list[str] = []
    with status_import_units(ctx.settings) as (engine, unit_of_work):
        report = import_statuses(csv_file, engine, unit_of_work, lines.append, ignore_errors=True)
    return report, lines


def _report(request: Request, title: str, report: ImportReport, lines: list[str],
            notes: list[str]) -> Response:  # fmt: skip
    return render(
        request, "backoffice/import_report.html", title=title, report=report, lines=lines,
        notes=notes,
    )  # fmt: skip


@router.post("/merchants/assign")
async def assign(request: Request, ctx: Ctx) -> Response:
    fields = await check_change(request, ctx)
    merchant, process = fields.get("merchant", "").strip(), fields.get("process", "").strip()
    csv_file = read_csv(_one_row(merchant, process), PROCESS_COLUMNS)
    report, lines = await to_thread.run_sync(_import_processes, ctx, csv_file)
    return _report(request, f"Process of {merchant}", report, lines, [])


@router.post("/merchants/import")
async def upload(request: Request, ctx: Ctx) -> Response:
    form = await request.form(max_files=1, max_fields=10)  # check_change reads it from here
    fields = await check_change(request, ctx)
    kind, upload = fields.get("kind", ""), form.get("file")
    if kind not in KINDS:
        raise WebError(400, "Unknown import", "Choose which file this is.")
    if not isinstance(upload, UploadFile):
        raise WebError(400, "No file", "Choose a CSV file to upload.")
    data = await upload.read(MAX_UPLOAD + 1)
    await form.close()  # its spooled temporary file
    if len(data) > MAX_UPLOAD:
        raise WebError(413, "File too large", "Split the file: at most 1 MiB per upload.")
    process_kind = kind == "merchant-oms-process"
    try:
        csv_file = (
            read_csv(data, PROCESS_COLUMNS)
            if process_kind
            else read_csv(data, STATUS_COLUMNS, STATUS_OPTIONAL)
        )
    except CsvFileError as error:
        raise WebError(400, "The file cannot be read", f"{upload.filename}: {error}") from None
    run: Any = _import_processes if process_kind else _import_statuses
    report, lines = await to_thread.run_sync(run, ctx, csv_file)
    return _report(request, f"Import of {upload.filename}", report, lines, csv_file.notes)
