"""`oms queues [--json] [--watch]` and `oms health`."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from sqlalchemy import text

from adapters.persistence.engine import make_engine
from adapters.queries.queues import queue_snapshot
from adapters.settings import Settings

COLUMNS = [
    "queue",
    "ready",
    "unacked",
    "consumers",
    "publish_rate",
    "deliver_rate",
    "retry_backlog",
    "dead_letter_queue",
    "dead_letters_recorded",
]


def snapshot(settings: Settings) -> dict[str, Any]:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        override = os.environ.get("OMS_RABBITMQ_MANAGEMENT_URL")
        return queue_snapshot(settings.broker_url, engine, override)
    finally:
        engine.dispose()


def render(data: dict[str, Any]) -> str:
    from cli.table import format_rows

    rows = [COLUMNS] + [
        ["-" if r[c] is None else str(r[c]) for c in COLUMNS] for r in data["queues"]
    ]
    return f"{data['broker']} — {data['source']}\n" + format_rows(rows, numeric=set(range(1, 9)))


def queues(*, as_json: bool, watch: bool, interval: float = 2.0) -> int:
    settings = Settings.from_env()
    while True:
        data = snapshot(settings)
        if as_json:
            print(json.dumps(data, indent=2))
        else:
            if watch and sys.stdout.isatty():
                print("\033[H\033[2J", end="")
            print(render(data))
        if not watch:
            return 0
        time.sleep(interval)


def health(*, as_json: bool) -> int:
    """Database, broker and Omnitron, each checked for real; exit 1 when one is down."""
    import pika

    from adapters.omnitron.client import OmnitronClient

    settings = Settings.from_env()
    checks: dict[str, str] = {}

    def check(name: str, probe: Any) -> None:
        try:
            probe()
            checks[name] = "ok"
        except Exception as error:
            checks[name] = f"down: {type(error).__name__}: {str(error)[:200]}"

    def database() -> None:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            with engine.connect() as c:
                c.execute(text("SELECT 1"))
        finally:
            engine.dispose()

    check("database", database)
    check(
        "broker", lambda: pika.BlockingConnection(pika.URLParameters(settings.broker_url)).close()
    )
    client = OmnitronClient(
        settings.omnitron_url,
        settings.omnitron_username,
        settings.omnitron_password,
        attempts=1,
        read_timeout=5,
    )
    check("omnitron", client._login)
    healthy = all(v == "ok" for v in checks.values())
    if as_json:
        print(json.dumps({"healthy": healthy, "checks": checks}))
    else:
        for name, verdict in checks.items():
            print(f"{name:9} {verdict}")
    return 0 if healthy else 1
