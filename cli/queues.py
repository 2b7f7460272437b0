"""`oms queues [--json] [--watch]` and `oms health`."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from sqlalchemy import func, select, text

from adapters.messaging.queue_stats import (
    from_management,
    from_passive_declares,
    management_url,
    plain_http_refused,
)
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.settings import Settings, redact_url

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
    base = management_url(settings.broker_url, os.environ.get("OMS_RABBITMQ_MANAGEMENT_URL"))
    rows = from_management(settings.broker_url, base)
    source = f"management API at {base}"
    if rows is None:
        rows = from_passive_declares(settings.broker_url)
        why = plain_http_refused(settings.broker_url, base) or "management API not reachable"
        source = f"passive declares ({why}: no unacked counts or rates)"
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as c:
            recorded: dict[str, int] = dict(
                c.execute(
                    select(t.dead_letters.c.queue_name, func.count())
                    .where(t.dead_letters.c.replayed_at.is_(None))
                    .group_by(t.dead_letters.c.queue_name)
                ).all()
            )
    finally:
        engine.dispose()
    for row in rows:
        row["dead_letters_recorded"] = recorded.get(row["queue"], 0)
    return {"source": source, "broker": redact_url(settings.broker_url), "queues": rows}


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
