"""`oms queues [--json] [--watch] [--interval S]` and `oms health`."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from typing import Any

from sqlalchemy import text

from adapters.messaging.nodes import connect
from adapters.persistence.engine import make_engine
from adapters.queries.queues import queue_snapshot
from adapters.settings import Settings
from cli.queue_watch import Watch, render


def snapshot(settings: Settings) -> dict[str, Any]:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        override = os.environ.get("OMS_RABBITMQ_MANAGEMENT_URL")
        return queue_snapshot(settings.broker_url, engine, override)
    finally:
        engine.dispose()


def queues(*, as_json: bool, watch: bool, interval: float = 2.0) -> int:
    settings = Settings.from_env()
    if not watch:
        data = snapshot(settings)
        print(json.dumps(data, indent=2) if as_json else render(data, width=_width()))
        return 0
    # pika logs every refused connection as an error: the screen says it instead
    logging.getLogger("pika").setLevel(logging.CRITICAL + 1)
    screens = Watch(lambda: snapshot(settings))
    while True:
        if as_json:  # one JSON object a line: the snapshot, or what failed
            try:
                print(json.dumps(snapshot(settings)), flush=True)
            except Exception as error:
                print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
        else:
            screen = screens.screen(_width())
            if sys.stdout.isatty():
                print("\033[H\033[2J", end="")
            print(screen, flush=True)
        time.sleep(interval)


def _width() -> int:
    """The terminal's width, 80 when it cannot be told; never wider than it."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def health(*, as_json: bool) -> int:
    """Database, broker and Omnitron, each checked for real; exit 1 when one is down."""

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
    check("broker", lambda: connect(settings.broker_url).close())
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
