"""The order's timeline over HTTP is exactly what `oms show order NUMBER --history --json`
prints (the same query); the text form; lookup by package number; 404 and 409."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from sqlalchemy import Engine

from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.shipping.omnitron_shipment_client import shipment_clients
from domain.package_commands import run_package_command
from domain.packaging import PackageCommand
from tests.api.conftest import Keys, token
from tests.api.server import ROOT, ApiServer
from tests.api.stored import example, fresh_channel, store

pytestmark = pytest.mark.services


def get(api: ApiServer, keys: Keys, path: str, **params: object) -> requests.Response:
    return requests.get(api.url + path, params=params, headers=token(keys.operator), timeout=30)


def oms(postgres_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, "OMS_DATABASE_URL": postgres_url, "PYTHONPATH": str(ROOT)},
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_history_is_the_cli_history(
    api: ApiServer, keys: Keys, api_db: Engine, postgres_url: str
) -> None:
    body = example()
    first, _ = store(api_db, body)
    run_package_command(
        PackageCommand("NO_SUCH_COMMAND", package_id=first), SqlUnitOfWork(api_db),
        shipment_clients(), message_id="b7e0f0a2-2f5e-4d8e-9d55-9a0b5f1c0001",
    )  # fmt: skip
    answer = get(api, keys, f"/api/v1/orders/{body['number']}/history/")
    assert answer.status_code == 200
    shown = oms(postgres_url, "show", "order", body["number"], "--history", "--json")
    assert shown.returncode == 0, shown.stderr
    assert answer.json() == json.loads(shown.stdout)
    events = answer.json()["events"]
    assert [e["stage"] for e in events][:1] == ["ingest"]
    assert [e["stage"] for e in events].count("split") == 2
    (command,) = [e for e in events if e["stage"] == "packaging"]
    assert command["outcome"] == "rejected" and command["what"] == "NO_SUCH_COMMAND"
    assert command["message_id"] == "b7e0f0a2-2f5e-4d8e-9d55-9a0b5f1c0001"

    package_number = command["package"]
    by_package = get(api, keys, f"/api/v1/orders/{package_number}/history/")
    assert by_package.status_code == 200 and by_package.json() == answer.json()

    text = oms(postgres_url, "show", "order", package_number, "--history")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"order {body['number']} (channel ")
    assert lines[1].split() == ["at", "(UTC)", "stage", "what", "outcome", "move", "detail"]
    assert len(lines) == 2 + len(events)
    assert "ingested" in lines[2] and "NO_SUCH_COMMAND" in text.stdout
    assert "unknown command slug" in text.stdout


def test_unknown_and_ambiguous_histories(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    missing = get(api, keys, "/api/v1/orders/NOT-THERE-2/history/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "order NOT-THERE-2 not found"}
    first, second = fresh_channel(), fresh_channel()
    number = example()["number"]
    store(api_db, example(number, first))
    store(api_db, example(number, second))
    ambiguous = get(api, keys, f"/api/v1/orders/{number}/history/")
    assert ambiguous.status_code == 409 and "?channel=" in ambiguous.json()["detail"]
    one = get(api, keys, f"/api/v1/orders/{number}/history/", channel=second)
    assert one.status_code == 200 and one.json()["channel"]["id"] == second


def test_the_cli_refuses_history_of_several_orders(postgres_url: str) -> None:
    shown = oms(postgres_url, "show", "order", "A", "B", "--history")
    assert shown.returncode != 0
    assert "--history shows one order" in shown.stderr
