"""Real PostgreSQL and RabbitMQ for the service tests. Absent services skip the tests loudly;
with OMS_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import NoReturn
from urllib.parse import quote, unquote, urlsplit

import pika
import pytest
from sqlalchemy import create_engine, text

REQUIRE_SERVICES = os.environ.get("OMS_REQUIRE_SERVICES") == "1"
POSTGRES_SERVER = os.environ.get(
    "OMS_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432"
)
RABBITMQ_SERVER = os.environ.get("OMS_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")
PIPELINE_QUEUES = ["oms.ingest", "oms.split", "oms.packaging", "oms.report", "oms.merchant"]


def unavailable(service: str, error: BaseException, problem: str = "is not reachable") -> NoReturn:
    message = (
        f"{service} {problem} ({type(error).__name__}: {error}). "
        "SERVICE TESTS SKIPPED; start it, or set OMS_REQUIRE_SERVICES=1 to fail instead."
    )
    if REQUIRE_SERVICES:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def make_database() -> Iterator[str]:
    name = f"oms_test_{uuid.uuid4().hex[:10]}"
    # pre-ping: the failure drills restart PostgreSQL under this long-lived admin connection
    server = create_engine(
        f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT", pool_pre_ping=True
    )
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:
        server.dispose()
        unavailable("PostgreSQL at " + POSTGRES_SERVER, error)
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def make_vhost() -> Iterator[str]:
    """A private RabbitMQ vhost, made with rabbitmqctl, else through the management API, and
    deleted after. A caller that cannot have one fails (OMS_REQUIRE_SERVICES=1) or is skipped
    loudly: it never falls back to another vhost (`/` may carry someone's live pipeline)."""
    parts = urlsplit(RABBITMQ_SERVER)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 5).close()
    except OSError as error:
        unavailable("RabbitMQ at " + RABBITMQ_SERVER, error)
    vhost = f"oms-test-{uuid.uuid4().hex[:8]}"
    remove = _create_vhost(vhost, unquote(parts.username or "guest"))
    try:
        yield f"{RABBITMQ_SERVER}/{quote(vhost, safe='')}"
    finally:
        remove()


def _create_vhost(vhost: str, user: str) -> Callable[[], object]:
    """Make the vhost (the local rabbitmqctl first, then the management API); its removal."""
    from cli.scratch import ScratchError, management_vhost

    why = []
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        why.append("no rabbitmqctl on PATH")
    else:
        made = _ctl(ctl, "add_vhost", vhost)
        if made is None:
            made = _ctl(ctl, "set_permissions", "-p", vhost, user, ".*", ".*", ".*")
            if made is None:
                return lambda: _ctl(ctl, "delete_vhost", vhost)
            _ctl(ctl, "delete_vhost", vhost)
        why.append(made)
    try:
        return management_vhost(RABBITMQ_SERVER + "/", vhost, user)
    except ScratchError as error:
        why.append(str(error))
    unavailable(
        "RabbitMQ at " + RABBITMQ_SERVER,
        RuntimeError("; ".join(why) + "; the tests never fall back to vhost '/'"),
        "gives no private vhost",
    )


def _ctl(ctl: str, *args: str) -> str | None:
    """Run rabbitmqctl; None when it worked, else why not."""
    try:
        done = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        return f"rabbitmqctl {args[0]}: {type(error).__name__}"
    if done.returncode == 0:
        return None
    last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
    return f"rabbitmqctl {args[0]} failed: {last[0][:200]}"


def vhost_of(url: str) -> str:
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def purge_queues(url: str) -> None:
    """Purge the pipeline's queues of a test's own vhost (never `/`: another user's)."""
    if vhost_of(url) == "/":
        raise AssertionError(f"refusing to purge the queues of vhost '/' ({url})")
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        for queue in PIPELINE_QUEUES:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel = connection.channel()
                with contextlib.suppress(pika.exceptions.ChannelClosedByBroker):  # not declared
                    channel.queue_purge(name)
    finally:
        connection.close()


def queue_depth(url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        try:
            return int(channel.queue_declare(queue, passive=True).method.message_count)
        except pika.exceptions.ChannelClosedByBroker:
            return 0
    finally:
        connection.close()
