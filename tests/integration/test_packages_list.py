"""`oms packages list` on a real database (issue 11, item 1): packages seeded through the real
ingest and split use cases, listed with their order, channel, merchant, status and age; filters by
status (name or code) and channel; a status code this version has no name for is still shown."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.packages import list_packages, status_code
from cli.generate import generate_orders
from domain import services
from schemas.convert import parse_inbound_order

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]


def seed(engine: Engine, channel: dict[str, Any], count: int) -> dict[str, dict[str, Any]]:
    """`count` generated orders on `channel`, ingested and split; package number -> expected."""
    prefix = f"PL-{uuid.uuid4().hex[:8].upper()}"
    bodies = generate_orders(
        count, prefix=prefix, seed=random.randrange(10**6),
        first_item_id=random.randrange(10**11, 10**12),
    )  # fmt: skip
    expected = {}
    for body in bodies:
        body["channel"] = channel
        ingested = services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine))
        assert ingested.order_id is not None
        split = services.split_order(ingested.order_id, SqlUnitOfWork(engine))
        for mo in split.merchant_orders:
            expected[mo.package.number] = {
                "id": mo.package.id,
                "order_number": body["number"],
                "merchant_reference": mo.merchant_reference,
            }
    return expected


def a_channel(channel_type: str) -> dict[str, Any]:
    channel_id = random.randrange(10**6, 10**9)
    return {
        "id": channel_id,
        "name": f"Test {channel_type} {channel_id}",
        "channel_type": channel_type,
    }


def set_status(engine: Engine, package_id: int, code: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(t.packages).where(t.packages.c.id == package_id).values(status=code)
        )


def oms(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a process: main() in-process would configure the global logging of the
    session (other tests capture logs)."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=os.environ.copy(), cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def listed(*args: str) -> list[dict[str, Any]]:
    done = oms("packages", "list", "--json", *args)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert isinstance(document, list)
    return document


@pytest.fixture
def db(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


def test_lists_packages_with_order_channel_merchant_status_and_age(db: Engine) -> None:
    market, web = a_channel("trendyol"), a_channel("web")
    expected = seed(db, market, 4)
    web_expected = seed(db, web, 2)
    packed, cancelled = sorted(v["id"] for v in expected.values())[:2]
    set_status(db, packed, 500)
    set_status(db, cancelled, 950)  # `cancelled` in spec §2; this version has no name for it

    rows = {row["number"]: row for row in listed("--channel", str(market["id"]))}
    assert set(rows) == set(expected)
    for number, row in rows.items():
        assert row["id"] == expected[number]["id"]
        assert row["order_number"] == expected[number]["order_number"]
        assert row["merchant_reference"] == expected[number]["merchant_reference"]
        assert row["channel"] == market
        assert 0 <= row["age_seconds"] < 600
        assert row["created_at"].endswith("+00:00")
    by_id = {row["id"]: row for row in rows.values()}
    assert (by_id[packed]["status"], by_id[packed]["status_code"]) == ("packed", 500)
    assert (by_id[cancelled]["status"], by_id[cancelled]["status_code"]) in {
        ("950", 950),
        ("cancelled", 950),
    }
    waiting = {n for n, row in rows.items() if row["id"] not in {packed, cancelled}}
    assert {row["status"] for n, row in rows.items() if n in waiting} == {"waiting"}

    # filters: by name, by code, with the channel; the web channel's packages are listed too
    by_name = listed("--status", "waiting", "--channel", str(market["id"]))
    by_code = listed("--status", "100", "--channel", str(market["id"]))
    assert {r["number"] for r in by_name} == {r["number"] for r in by_code} == waiting
    assert [r["number"] for r in listed("--status", "950", "--channel", str(market["id"]))] == [
        by_id[cancelled]["number"]
    ]
    web_rows = listed("--channel", str(web["id"]))
    assert {r["number"] for r in web_rows} == set(web_expected)
    # across channels: every listed package is in the state asked for, ours among them
    everywhere = listed("--status", "packed")
    assert {r["status_code"] for r in everywhere} == {500}
    assert by_id[packed]["number"] in {r["number"] for r in everywhere}


def test_text_table_and_limit(db: Engine) -> None:
    market = a_channel("hepsiburada")
    expected = seed(db, market, 3)
    done = oms("packages", "list", "--channel", str(market["id"]))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["id", "package", "order", "channel", "merchant", "status", "age"]
    assert lines[-1] == f"{len(expected)} packages"
    for number, fields in expected.items():
        line = next(line for line in lines if f" {number} " in line)
        assert fields["order_number"] in line and fields["merchant_reference"] in line
        assert " waiting " in line and market["name"] in line

    oldest = listed("--channel", str(market["id"]), "--limit", "1")
    assert [r["id"] for r in oldest] == [min(v["id"] for v in expected.values())]


def test_an_unknown_status_is_refused_with_the_known_ones(db: Engine) -> None:
    refused = oms("packages", "list", "--status", "boxed")
    assert refused.returncode == 1
    assert refused.stderr.startswith("unknown package status 'boxed' (known: waiting (100),")
    assert status_code(" Packed ") == 500


def test_the_query_pages_by_id(db: Engine) -> None:
    market = a_channel("n11")
    ids = sorted(v["id"] for v in seed(db, market, 3).values())
    first = list_packages(db, channel_id=market["id"], limit=2)
    rest = list_packages(db, channel_id=market["id"], after_id=first[-1].id)
    assert [r.id for r in first + rest] == ids
