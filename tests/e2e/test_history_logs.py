"""Every stage's log lines carry the order's number (issue 11 item 2): an order ingested,
split, packed and reported by the real worker processes; their JSON lines are read back."""

from __future__ import annotations

import json
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import Engine

from adapters.omnitron.simulator import OmnitronSimulator
from tests.e2e.pipeline import Pipeline, wait_for
from tests.e2e.test_reports import ingest, marketplace_orders, pack, package_ids, reports_sent

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def events(log_dir: Path) -> list[dict[str, object]]:
    found = []
    for path in log_dir.glob("*.log"):
        for line in path.read_text().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    return found


def test_each_stage_logs_the_order_number(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    prefix, bodies = marketplace_orders(1)
    number = bodies[0]["number"]
    pipeline.start_workers()
    ingest(pipeline, db, omnitron, tmp_path, bodies, prefix)
    ids = package_ids(db, prefix)
    pack(broker, ids)
    wait_for(lambda: reports_sent(db, ids) == len(ids), 90, "the reports to be sent")
    pipeline.stop()
    lines = events(pipeline.log_dir)
    wanted = {"order.ingested", "order.split", "package.command_applied", "report.sent"}
    seen = {str(e["event"]): e for e in lines if e.get("event") in wanted}
    assert set(seen) == wanted, sorted(seen)
    for name in wanted:
        assert seen[name]["order_number"] == number, (name, seen[name])
