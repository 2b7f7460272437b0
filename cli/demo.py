"""`oms demo`: the whole flow in one process. With no settings it is embedded (SQLite, the
in-process broker, in-process workers); with OMS_DATABASE_URL and OMS_BROKER_URL set, the same
flow runs against PostgreSQL and RabbitMQ."""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from adapters.persistence.migrate import upgrade
from cli.generate import generate_orders
from domain.money import format_minor_units

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
INVALID_ORDERS: list[dict[str, Any]] = [
    {
        "number": "BAD-DECIMALS",
        "channel": {"id": 42, "name": "Trendyol", "channel_type": "trendyol"},
        "status": "400",
        "date_placed": "2026-11-21T10:00:00+03:00",
        "currency": "try",
        "items": [
            {"id": 1, "product": {"sku": "X", "name": "X"}, "price": "10.005", "tax_rate": "20"}
        ],
    },
    {
        "number": "BAD-AMOUNT",
        "channel": {"id": 42, "name": "Trendyol", "channel_type": "trendyol"},
        "status": "400",
        "date_placed": "2026-11-21T10:00:00+03:00",
        "currency": "try",
        "amount": "99.00",
        "items": [
            {"id": 2, "product": {"sku": "X", "name": "X"}, "price": "10.00", "tax_rate": "20"}
        ],
    },
]


def _configure_environment() -> str:
    if "OMS_DATABASE_URL" not in os.environ:
        folder = tempfile.mkdtemp(prefix="oms-demo-")
        os.environ["OMS_DATABASE_URL"] = f"sqlite:///{folder}/oms.sqlite3"
    os.environ.setdefault("OMS_BROKER_URL", "stub://")
    os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
    return "embedded" if os.environ["OMS_BROKER_URL"].startswith("stub:") else "services"


def example_orders() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("order-*.json"))]


def _wait(engine: Engine, numbers: set[str], rejected_ids: set[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            split = connection.execute(
                select(func.count())
                .select_from(t.orders)
                .where(t.orders.c.number.in_(numbers), t.orders.c.split)
            ).scalar_one()
            dead = connection.execute(
                select(func.count())
                .select_from(t.dead_letters)
                .where(t.dead_letters.c.message_id.in_(rejected_ids))
            ).scalar_one()
        if split >= len(numbers) and dead >= len(rejected_ids):
            return
        time.sleep(0.1)
    raise TimeoutError(f"the pipeline did not finish within {timeout:.0f} s")


def _omnitron(valid: list[dict[str, Any]]) -> Any:
    """The Omnitron the demo reports to: OMNITRON_URL when set, else an in-process simulator.
    Every order is registered there first, as Omnitron would have it."""
    simulator = None
    if "OMNITRON_URL" not in os.environ:
        from adapters.omnitron.simulator import OmnitronSimulator

        simulator = OmnitronSimulator(username="oms", password="oms")
        simulator.start()
        os.environ.update(
            OMNITRON_URL=simulator.url, OMNITRON_USERNAME="oms", OMNITRON_PASSWORD="oms"
        )
    base = os.environ["OMNITRON_URL"].rstrip("/")
    session = requests.Session()
    key = session.post(
        f"{base}/api/v1/auth/login/",
        json={
            "username": os.environ.get("OMNITRON_USERNAME", "oms"),
            "password": os.environ.get("OMNITRON_PASSWORD", "oms"),
        },
        timeout=10,
    ).json()["key"]
    session.headers["Authorization"] = f"Token {key}"
    for body in valid:
        session.post(f"{base}/api/v1/orders/", json=body, timeout=10).raise_for_status()
    session.delete(f"{base}/sim/requests", timeout=10)
    return simulator


def _simulator_requests() -> list[dict[str, Any]]:
    base = os.environ["OMNITRON_URL"].rstrip("/")
    answer = requests.get(f"{base}/sim/requests", timeout=10)
    return list(answer.json()) if answer.ok else []


def run_demo(generated: int = 20) -> int:
    mode = _configure_environment()
    upgrade(os.environ["OMS_DATABASE_URL"])
    run = f"{random.randrange(16**4):04X}"
    valid = example_orders() + generate_orders(
        generated,
        prefix=f"DEMO-{run}",
        seed=int(time.time()),
        first_item_id=random.randrange(10**11, 10**12),
    )
    simulator = _omnitron(valid)

    import dramatiq

    from adapters.persistence.dead_letters import dead_letters
    from adapters.persistence.unit_of_work import SqlUnitOfWork
    from adapters.queries.orders import find_orders, identity_holds
    from cli.demo_packing import outcomes_table, pack_all, reports_table, wait_for_reports
    from cli.publish import publish_orders
    from cli.table import format_rows, order_table
    from workers import actors as _actors  # noqa: F401  (declares the stage actors)
    from workers import bootstrap, broker

    engine = bootstrap.engine()
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=100)
    worker.start()
    started = time.monotonic()
    try:
        publish_orders(broker, valid)
        rejected = set(publish_orders(broker, INVALID_ORDERS))
        _wait(engine, {o["number"] for o in valid}, rejected)
        split_at = time.monotonic() - started

        def views() -> list[dict[str, Any]]:
            found = (
                find_orders(SqlUnitOfWork(engine), o["number"], o["channel"]["id"]) for o in valid
            )
            return [v[0] for v in found]

        commands = pack_all(broker, views())
        wait_for_reports(engine, commands)
        packed_at = time.monotonic() - started
    finally:
        worker.stop()
    final = views()

    print(
        f"oms demo ({mode}): {len(valid)} orders ingested and split in {split_at:.2f} s; "
        f"packed and reported by {packed_at:.2f} s\n"
    )
    for view in final[:2]:
        print(order_table(view) + "\n")
    rows = [["order", "channel", "merchant orders", "packages", "grand total", "identity"]]
    for view in final:
        rows.append(
            [
                view["number"],
                view["channel"]["name"],
                str(len(view["merchant_orders"])),
                " ".join(sorted({p["status"] for p in view["packages"]})),
                format_minor_units(view["totals"]["grand_total"], view["currency"]),
                "ok" if identity_holds(view) else "BROKEN",
            ]
        )
    print(format_rows(rows, numeric={2, 4}) + "\n")
    print("dead letters (never retried):")
    for letter in dead_letters(engine, "oms.ingest"):
        if letter["message_id"] in rejected:
            body = (letter["message"].get("args") or [{}])[0]
            number = body.get("number") if isinstance(body, dict) else body
            print(f"  {number}: {letter['reason']}")
    print("\npackaging commands (CHANNEL_BASED_COMPLETE_PACKAGING on every package):")
    print(outcomes_table(engine, commands))
    print("\nreports received by Omnitron:")
    print(reports_table(_simulator_requests()))
    if simulator is not None:
        simulator.stop()
    broken = sum(not identity_holds(v) for v in final)
    print(f"\n{len(final)} orders stored, {broken} with a broken totals identity")
    return 1 if broken else 0
