"""`oms omnitron-sim register FILE` (issue 11, item 6): orders published after the simulator
started are made known to it over real HTTP, so their reports and polls are not refused. Needs no
PostgreSQL/RabbitMQ."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.omnitron.client import OmnitronClient
from adapters.omnitron.simulator import OmnitronSimulator
from tests.e2e.pipeline import write_json_lines
from tests.integration.test_omnitron_simulator import order_body

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pw"


@pytest.fixture
def simulator() -> Iterator[OmnitronSimulator]:
    with OmnitronSimulator(username="oms", password=PASSWORD) as running:
        yield running


def register(simulator: OmnitronSimulator, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OMNITRON_USERNAME": "oms",
        "OMNITRON_PASSWORD": PASSWORD,
        "OMNITRON_URL": "http://127.0.0.1:9",
    }  # fmt: skip  (--url wins over the setting)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "omnitron-sim", "register", *args,
         "--url", simulator.url],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_registers_new_orders_reports_known_and_refused_ones(
    simulator: OmnitronSimulator, tmp_path: Path
) -> None:
    simulator.register(order_body("REG-1", [7101]))  # known before: preloaded
    bodies = [
        order_body("REG-1", [7101]),
        order_body("REG-2", [7201, 7202], status="400"),
        order_body("REG-3", [7301]),
        {**order_body("REG-4", [7401]), "currency": "xx"},  # invalid: refused with the reason
    ]
    done = register(simulator, str(write_json_lines(tmp_path / "orders.jsonl", bodies)))

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"registered 2 orders with the simulator at {simulator.url} (1 known before, 1 refused)"
    )
    assert lines[1].startswith("  refused order 4 (REG-4): POST /api/v1/orders/: HTTP 400:")
    assert "currency" in lines[1]
    assert done.stderr.strip().splitlines()[-1] == "oms: 1 orders refused by the simulator"
    assert PASSWORD not in done.stdout + done.stderr

    client = OmnitronClient(simulator.url, "oms", PASSWORD)
    found = {o.number: o for o in client.orders(["REG-1", "REG-2", "REG-3", "REG-4"])}
    assert sorted(found) == ["REG-1", "REG-2", "REG-3"]
    assert [(i.id, i.status) for i in found["REG-2"].items] == [(7201, "400"), (7202, "400")]
    posts = [
        r for r in simulator.requests() if r["method"] == "POST" and r["path"] == "/api/v1/orders/"
    ]
    assert [r["status"] for r in posts] == [200, 201, 201, 400]

    again = register(simulator, str(write_json_lines(tmp_path / "again.json", bodies[:3])))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"registered 0 orders with the simulator at {simulator.url} (3 known before, 0 refused)"
    ]


def test_a_wrong_password_is_one_line_without_the_password(
    simulator: OmnitronSimulator, tmp_path: Path
) -> None:
    path = write_json_lines(tmp_path / "o.jsonl", [order_body("REG-9", [7901])])
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "omnitron-sim", "--password", "wrong-one",
         "register", str(path), "--url", simulator.url],
        env={**os.environ, "OMNITRON_USERNAME": "oms"}, cwd=ROOT, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "oms: OmnitronRejected: Omnitron login refused: POST /api/v1/auth/login/: HTTP 400"
        )
    )
    assert "wrong-one" not in done.stdout + done.stderr
    with simulator.state.lock:
        assert "REG-9" not in simulator.state.orders
