"""The CSV import and export through the `oms` command line on the real services: worker
subprocesses, RabbitMQ, PostgreSQL and the Omnitron simulator. The status import's reports reach
Omnitron through the outbox (published after each row's commit)."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.omnitron.simulator import OmnitronSimulator
from tests.e2e.pipeline import Pipeline, split_count, wait_for, write_json_lines

pytestmark = [pytest.mark.services, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
BULK = "/api/i1/order_items/bulk_status_update/"


def test_csv_import_and_export_through_the_cli(
    pipeline: Pipeline, db: Engine, omnitron: OmnitronSimulator, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    a, b = f"CA{tag}", f"CB{tag}"
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text())
    body["number"] = f"CLI-{tag}"
    base = uuid.uuid4().int % 10**12
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
        item["merchant_reference"] = {"MER000002": a, "MER000005": b}[item["merchant_reference"]]
    body["expenses"][0]["merchant_reference"] = a
    omnitron.register(body)
    pipeline.start_workers()
    pipeline.run_oms("publish", "orders", str(write_json_lines(tmp_path / "o.jsonl", [body])))
    wait_for(lambda: split_count(db, body["number"]) == 1, 90, "the order to be split")

    mug = f"{body['number']}--{a}--{base + 1}"
    lamp = f"{body['number']}--{b}--{base + 2}"
    statuses = tmp_path / "status.csv"
    statuses.write_text(
        "merchant_order_item_reference,merchant_order_item_oms_event_state\n"
        f"{mug},cancel by merchant\n{lamp},ship\n"
    )
    first = pipeline.run_oms(
        "import", "merchant-order-status", str(statuses), "--ignore-errors", check=False
    )
    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines() == [
        f"row 1: {mug} cancel by merchant: applied (new -> canceled by merchant)",
        f"row 2: {lamp} ship: rejected: shipping status of marketplace orders comes from the "
        "channel's carrier",
        "Rows processed: 1/2",
    ]
    assert "1 rows failed: 2" in first.stderr

    def reported() -> bool:
        for request in list(omnitron.state.log):
            if request["path"] == BULK and request["status"] == 200:
                items = (request.get("body") or {}).get("orderitem_set", [])
                if {(i["id"], i["status"]) for i in items} == {(base + 1, "100")}:
                    return True
        return False

    wait_for(reported, 60, "Omnitron to be told the mug is cancelled (100)")

    again = pipeline.run_oms("import", "merchant-order-status", str(statuses), check=False)
    assert again.returncode == 1
    assert again.stdout.splitlines()[0] == (
        f"row 1: {mug} cancel by merchant: skipped (already imported from this file: "
        "applied new -> canceled by merchant)"
    )
    assert "stopped at row 2" in again.stderr

    processes = tmp_path / "processes.csv"
    processes.write_text(
        f"merchant_reference,merchant_oms_process_name\n{b},MainMerchantStateMachine\n"
    )
    result = pipeline.run_oms("import", "merchant-oms-process", str(processes))
    assert result.stdout.splitlines() == [
        f"row 1: {b} -> MainMerchantStateMachine (was MerchantDefaultStateMachine)",
        "Rows processed: 1/1",
    ]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"merchant_reference,merchant_oms_process_name\nM\xe9R,X\n")
    result = pipeline.run_oms("import", "merchant-oms-process", str(bad), check=False)
    assert result.returncode == 1
    assert "line 2: not valid UTF-8 (byte 0xe9 at column 2)" in result.stderr

    out = tmp_path / "export"
    result = pipeline.run_oms("export", "merchant-orders", "--out", str(out), "--merchant", a)
    assert result.stdout.splitlines()[-1] == f"exported 1 merchants to {out}"
    assert sorted(p.name for p in out.iterdir()) == [a]
    with (out / a / "merchant-orders.csv").open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["merchant_order_totals_canceled_total"], row["merchant_order_item_states"]) == (
        "4500",
        "canceled by merchant,new",
    )
