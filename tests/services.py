"""Real PostgreSQL and RabbitMQ for the service tests. Absent services skip the tests loudly;
with OMS_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pika
import pytest
from sqlalchemy import create_engine, text

REQUIRE_SERVICES = os.environ.get("OMS_REQUIRE_SERVICES") == "1"
POSTGRES_SERVER = os.environ.get(
    "OMS_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432"
)
RABBITMQ_SERVER = os.environ.get("OMS_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")
PIPELINE_QUEUES = ["oms.ingest", "oms.split", "oms.packaging", "oms.report", "oms.merchant"]


def unavailable(service: str, error: BaseException) -> None:
    message = (
        f"{service} is not reachable ({type(error).__name__}: {error}). "
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
    """A private RabbitMQ vhost per test session when rabbitmqctl is at hand, else '/'
    with the pipeline's queues purged."""
    try:
        pika.BlockingConnection(pika.URLParameters(RABBITMQ_SERVER + "/%2F")).close()
    except Exception as error:
        unavailable("RabbitMQ at " + RABBITMQ_SERVER, error)
    ctl = shutil.which("rabbitmqctl")
    vhost = f"oms-test-{uuid.uuid4().hex[:8]}"
    created = False
    if ctl is not None:
        created = _ctl(ctl, "add_vhost", vhost) and _ctl(
            ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"
        )
    if not created:
        vhost = "/"
        purge_queues(f"{RABBITMQ_SERVER}/%2F")
    try:
        yield f"{RABBITMQ_SERVER}/{quote(vhost, safe='')}"
    finally:
        if created and ctl is not None:
            _ctl(ctl, "delete_vhost", vhost)


def _ctl(ctl: str, *args: str) -> bool:
    done = subprocess.run([ctl, *args], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


def purge_queues(url: str) -> None:
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
