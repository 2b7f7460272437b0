"""Helpers for the tests that `oms bench` and `oms demo` leave the configured systems alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pika
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from adapters.persistence import tables as t
from tests.e2e.pipeline import ROOT
from tests.services import RABBITMQ_SERVER


def oms(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def scratch_names(stdout: str) -> tuple[str, str]:
    """The database and vhost a run says it used (it prints them on its first line)."""
    found = re.search(r"scratch database (\S+) and vhost (\S+)", stdout)
    assert found is not None, f"the run does not name its scratch database and vhost:\n{stdout}"
    return found.group(1), found.group(2)


def database_exists(any_url: str, name: str) -> bool:
    server = create_engine(make_url(any_url).set(database="postgres"))
    try:
        with server.connect() as c:
            row = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            return row.first() is not None
    finally:
        server.dispose()


def vhost_exists(vhost: str) -> bool:
    from urllib.parse import quote

    try:
        url = f"{RABBITMQ_SERVER}/{quote(vhost, safe='')}"
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except pika.exceptions.AMQPConnectionError:
        return False
    return True


def queue_exists(url: str, queue: str) -> bool:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        connection.close()


def count_rows(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def orders_like(engine: Engine, pattern: str) -> int:
    return count_rows(engine, t.orders, t.orders.c.number.like(pattern))
