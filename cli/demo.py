"""`oms demo`: the whole flow in one process. It never touches anything it did not create: it is
embedded (a temporary SQLite file, the in-process broker, in-process workers, an in-process
Omnitron simulator) whatever the environment says; with --real-services the same flow runs on
PostgreSQL and RabbitMQ, in a database and vhost of its own on the configured servers
(cli/scratch.py), still with its own simulator. Everything it made is removed at the end."""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from adapters.persistence.migrate import upgrade
from adapters.settings import Settings
from cli.generate import generate_orders
from cli.scratch import announce, scratch_services

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
    """The demo's own Omnitron simulator (never OMNITRON_URL's), with every order registered
    first, as Omnitron would have it."""
    from adapters.omnitron.simulator import OmnitronSimulator

    simulator = OmnitronSimulator(username="oms", password="oms")
    simulator.start()
    os.environ.update(OMNITRON_URL=simulator.url, OMNITRON_USERNAME="oms", OMNITRON_PASSWORD="oms")
    try:
        session = requests.Session()
        key = session.post(
            f"{simulator.url}/api/v1/auth/login/",
            json={"username": "oms", "password": "oms"},
            timeout=10,
        ).json()["key"]
        session.headers["Authorization"] = f"Token {key}"
        for body in valid:
            answer = session.post(f"{simulator.url}/api/v1/orders/", json=body, timeout=10)
            answer.raise_for_status()
    except BaseException:
        simulator.stop()
        raise
    simulator.state.log.clear()
    return simulator


def run_demo(generated: int = 20, *, real_services: bool = False, keep: bool = False) -> int:
    """The terminal shows tables only: the JSON logs (the dead letters' errors among them) go
    to a file the demo names, kept after it ends."""
    from adapters.logging import configure_logging

    os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
    log = tempfile.NamedTemporaryFile(prefix="oms-demo-", suffix=".log", delete=False)  # noqa: SIM115
    log.close()
    os.environ["OMS_LOG_FILE"] = log.name
    configure_logging()
    if real_services:
        with scratch_services(Settings.from_env(), "demo", keep=keep) as scratch:
            announce("oms demo", scratch, keep=keep)
            code = _run(
                generated, "real services", scratch.database_url, scratch.broker_url, log.name
            )
            if keep:
                print(_kept(scratch.database, scratch.vhost))
            return code
    folder = tempfile.mkdtemp(prefix="oms-demo-")
    try:
        return _run(generated, "embedded", f"sqlite:///{folder}/oms.sqlite3", "stub://", log.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _kept(database: str, vhost: str) -> str:
    return (
        f"\nkept: database {database}, vhost {vhost}. Look around with the same server URLs:\n"
        f"  export OMS_DATABASE_URL=<your server URL ending in /{database}>\n"
        f"  oms reservations; oms reservations verify; oms show order <number>\n"
        f"remove them with: dropdb {database}; rabbitmqctl delete_vhost {vhost}"
    )


def _run(generated: int, mode: str, database_url: str, broker_url: str, log_file: str) -> int:
    # set before the workers package is imported: it reads them once
    os.environ.update(OMS_DATABASE_URL=database_url, OMS_BROKER_URL=broker_url)
    upgrade(database_url)
    run = f"{random.randrange(16**4):04X}"
    valid = example_orders() + generate_orders(
        generated,
        prefix=f"DEMO-{run}",
        seed=int(time.time()),
        first_item_id=random.randrange(10**11, 10**12),
    )
    simulator = _omnitron(valid)
    try:
        return _flow(valid, mode, simulator, log_file)
    finally:
        simulator.stop()
        _close_connections()


def _close_connections() -> None:
    """The broker's and the engine's connections go before their vhost and database do."""
    if "workers.broker" in sys.modules:
        from workers import bootstrap, broker

        broker.close()
        bootstrap.engine().dispose()


def _flow(valid: list[dict[str, Any]], mode: str, simulator: Any, log_file: str) -> int:
    import dramatiq

    from adapters.persistence.dead_letters import dead_letters
    from adapters.persistence.unit_of_work import SqlUnitOfWork
    from adapters.queries.orders import find_orders, identity_holds
    from adapters.queries.reservations import verify_reservations
    from cli import demo_merchants as m
    from cli.demo_packing import outcome_counts, pack_all, wait_for_reports
    from cli.publish import publish_orders
    from cli.reservations import print_reservations
    from cli.table import format_rows, order_table
    from domain import poll_service
    from workers import actors as _actors  # noqa: F401  (declares the stage actors)
    from workers import bootstrap, broker

    engine = bootstrap.engine()
    folder = Path(tempfile.mkdtemp(prefix="oms-demo-csv-"))
    steps: list[tuple[str, list[str]]] = []
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=100)
    worker.start()
    started = time.monotonic()

    def views() -> list[dict[str, Any]]:
        found = (find_orders(engine, o["number"], o["channel"]["id"]) for o in valid)
        return [v[0] for v in found]

    try:
        steps.append(
            ("process import", m.import_process_file(folder, engine, SqlUnitOfWork(engine)))
        )
        publish_orders(broker, valid)
        rejected = set(publish_orders(broker, INVALID_ORDERS))
        _wait(engine, {o["number"] for o in valid}, rejected)
        steps.append(
            (
                "ingest, split",
                [
                    f"{len(valid)} orders split in {time.monotonic() - started:.2f} s; "
                    f"{len(rejected)} invalid ones dead-lettered (below)"
                ],
            )
        )
        steps.append(("merchant cancels", [m.merchant_cancels(broker, engine)]))
        commands = pack_all(broker, views())
        wait_for_reports(engine, commands)
        counts, refused = outcome_counts(engine, commands)
        packing = [
            f"{len(commands)} CHANNEL_BASED_COMPLETE_PACKAGING commands ({counts}); "
            f"preparing (450) reported by {time.monotonic() - started:.2f} s"
        ]
        steps.append(("packing", packing + ([f"first rejection: {refused}"] if refused else [])))
        marked = m.carrier_moves(simulator, views())
        since = m.last_log_id(engine)
        poll_service.open_cycle_now(int(time.time()), bootstrap.unit_of_work())
        m.wait(m.polled(views, marked), "the poll cycle")
        told = sorted(marked.values())
        steps.append(
            (
                "carrier, poll",
                [
                    f"Omnitron: {told.count('500')} orders shipped (500), "
                    f"{told.count('550')} delivered (550); one poll cycle",
                    f"merchant items (source poll): {m.poll_summary(engine, since)}",
                ],
            )
        )
        steps.append(("refund import", m.import_refund(folder, engine, bootstrap.unit_of_work)))
        m.wait(lambda: m.reports_sent(engine), "the reports to Omnitron")
        final = views()
    finally:
        worker.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"oms demo ({mode}); JSON logs: {log_file}\n")
    for number, (title, lines) in enumerate(steps, start=1):
        for index, line in enumerate(lines):
            print(f"{f'{number}. {title}' if index == 0 else '':<21}{line}")
    print()
    for view in final[:2]:
        print(order_table(view))
        print(m.items_table(view) + "\n")
    print(m.orders_table(final) + "\n")
    table = [["dead letter (never retried)", "reason"]]
    for letter in dead_letters(engine, "oms.ingest"):
        if letter["message_id"] in rejected:
            body = (letter["message"].get("args") or [{}])[0]
            order = body.get("number") if isinstance(body, dict) else body
            table.append([str(order), letter["reason"]])
    print(format_rows(table) + "\n")
    print("what Omnitron was told:")
    print(m.omnitron_table(list(simulator.state.log)))
    broken = sum(not identity_holds(v) for v in final)
    print(f"\n{len(final)} orders stored, {broken} with a broken totals identity")
    print("\nreservations (spec 9.5), per merchant and offer, reserved now:")
    print_reservations(engine)
    differ = verify_reservations(engine)
    print(f"{len(differ)} reservation(s) differ from the sum recomputed from their items")
    for difference in differ:
        print(f"  {difference.line()}")
    return 1 if broken or differ else 0
