"""No customer personal data in any log line (issue 8, item 18): an order whose ingestion fails
transiently (its table is away for a while) is retried; every line every process wrote is
searched for the customer's e-mail, name and address, and the failures name the message by id."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cli.generate import generate_orders
from tests.e2e.pipeline import Pipeline, split_count, wait_for, write_json_lines

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def log_lines(log_dir: Path) -> list[str]:
    return [line for path in log_dir.glob("*.log") for line in path.read_text().splitlines()]


def test_an_order_failing_transiently_leaves_no_personal_data_in_any_log_line(
    pipeline: Pipeline, db: Engine, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:10]
    email, name, street = f"pii-{marker}@example.invalid", f"Name{marker}", f"Street {marker}"
    prefix = f"PII-{uuid.uuid4().hex[:6].upper()}"  # the order number may be logged
    [body] = generate_orders(1, prefix=prefix, seed=random.randrange(10**6))
    body["customer"] = {"id": 7, "email": email, "first_name": name, "last_name": name}
    body["shipping_address"] = {"line": street, "city": "Istanbul", "email": email}
    with db.begin() as c:
        c.exec_driver_sql("ALTER TABLE orders RENAME TO orders_away")  # a transient failure
    pipeline.start_workers()
    published = pipeline.run_oms(
        "publish", "orders", str(write_json_lines(tmp_path / "o.jsonl", [body]))
    )

    def failures() -> list[str]:
        return [line for line in log_lines(tmp_path) if "Failed to process message" in line]

    try:
        wait_for(lambda: len(failures()) >= 2, 60, "the order to fail twice")
    finally:
        with db.begin() as c:
            c.exec_driver_sql("ALTER TABLE orders_away RENAME TO orders")
    wait_for(lambda: split_count(db, prefix) == 1, 90, "the order once its table is back")
    pipeline.stop()

    lines = log_lines(tmp_path) + (published.stdout + published.stderr).splitlines()
    leaks = [line for line in lines if marker in line.lower()]
    assert leaks == [], leaks[:3]
    for line in failures():  # the failures are there, structured, and name the message by id
        event = json.loads(line)
        assert event["event"].startswith("Failed to process message ingest_order[")
        assert event["exception"][0]["exc_type"] == "ProgrammingError"
