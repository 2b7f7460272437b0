"""`oms import merchant-process FILE` (flows/process_definitions.py): a process added later
carries its reserved flags (spec 9.5) — its items count in their offers' reservations exactly
as the shipped processes' do — and a bad file changes nothing, naming each error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.merchants import assign_process
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.reservations import reservation_of, verify_reservations
from domain import services
from domain.reservations import OFFER, OfferKey
from flows.csv_files import read_csv
from flows.process_definitions import COLUMNS, OPTIONAL, import_process_definitions
from schemas.convert import parse_inbound_order
from tests.integration.test_merchants import fire
from tests.integration.test_packaging import ROOT

pytestmark = pytest.mark.services


def definition(name: str) -> str:
    return (
        "process,state,event,target_state,manual,reserved\n"
        f"{name},created,initiate,new,no,yes\n"
        f"{name},new,pick,picked,yes,yes\n"
        f"{name},new,cancel,canceled,no,yes\n"
        f"{name},picked,ship,shipped,yes,yes\n"
        f"{name},shipped,,,,no\n"
        f"{name},canceled,,,,no\n"
    )


def imported(engine: Engine, text: str) -> list[str]:
    csv_file = read_csv(text.encode(), COLUMNS, OPTIONAL)
    return import_process_definitions(csv_file, engine).errors


def test_a_process_added_later_carries_its_reservations(engine: Engine) -> None:
    name = f"Picking{uuid.uuid4().hex[:8]}"
    assert imported(engine, definition(name)) == []
    with engine.connect() as c:
        flags = c.execute(
            select(t.merchant_process_states.c.state, t.merchant_process_states.c.reserved).where(
                t.merchant_process_states.c.process == name
            )
        ).all()
    assert {state for state, reserved in flags if reserved} == {"created", "new", "picked"}
    assert {state for state, reserved in flags if not reserved} == {"shipped", "canceled"}

    merchant = f"MP{uuid.uuid4().hex[:8].upper()}"
    with engine.begin() as c:
        assign_process(c, merchant, name)
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text())
    body["number"] = f"PI-{uuid.uuid4().hex[:8]}"
    base = uuid.uuid4().int % 10**12
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
        item["merchant_reference"] = merchant
    for expense in body.get("expenses", []):
        if expense.get("merchant_reference"):
            expense["merchant_reference"] = merchant
    order = services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine))
    assert order.order_id is not None
    services.split_order(order.order_id, SqlUnitOfWork(engine))
    mo = f"{body['number']}--{merchant}"
    mug = OfferKey(merchant, OFFER, "offer-13")

    def held() -> tuple[int, int]:
        found = reservation_of(engine, mug)
        return (0, 0) if found is None else (found.quantity, found.open_items)

    assert held() == (2, 1)
    mug_item = f"{mo}--{base + 1}"
    assert fire(engine, "pick", mo, merchant, [mug_item]).records[0].outcome.value == "applied"
    assert held() == (2, 1)  # picked: still in the warehouse
    assert fire(engine, "ship", mo, merchant, [mug_item]).records[0].outcome.value == "rejected"
    assert held() == (2, 1)
    body["items"][1]["status"] = "100"  # the channel cancels the mug: forced out of `picked`
    body.pop("amount")  # Omnitron's grand total leaves out a cancelled item
    services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine), "resend-1")
    assert held() == (0, 0)
    mine = [d for d in verify_reservations(engine) if d.key.merchant_reference == merchant]
    assert mine == []


def test_a_bad_file_changes_nothing_and_names_each_error(engine: Engine) -> None:
    name = f"Bad{uuid.uuid4().hex[:8]}"
    errors = imported(
        engine,
        "process,state,event,target_state,manual,reserved\n"
        f"{name},created,initiate,new,no,yes\n"
        f"{name},new,pack,packed,maybe,yes\n"
        f"{name},new,ship,shipped,yes,no\n"
        f"{name},new,ship,lost,yes,yes\n"
        f"{name},odd,,,,perhaps\n",
    )
    assert errors == [
        "row 2 (line 3), column manual: a transition needs event, target_state and manual (yes/no)",
        f"row 3 (line 4), column reserved: state 'new' of {name} was reserved on row 2",
        f"row 4 (line 5), column event: {name} has 'ship' from 'new' on row 3",
        "row 5 (line 6), column reserved: yes or no",
        f"row 3: state 'shipped' of {name} has no row of its own (its reserved flag)",
    ]
    with engine.connect() as c:
        rows = c.execute(
            select(t.merchant_transitions.c.id).where(t.merchant_transitions.c.process == name)
        ).all()
    assert rows == []


def test_cli_refuses_a_process_that_exists(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    name = f"Twice{uuid.uuid4().hex[:8]}"
    path = tmp_path / "process.csv"
    path.write_text(definition(name))

    def oms() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "import", "merchant-process", str(path)],
            env={**os.environ, "OMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    first = oms()
    assert first.returncode == 0, first.stderr
    assert f"{name}: 4 transitions, 5 states, reserved: created, new, picked" in first.stdout
    second = oms()
    assert second.returncode == 1
    assert f"process {name} exists" in second.stderr
