"""Dead letters on real RabbitMQ and PostgreSQL: the keeper moves every .XQ message into the
table (undecodable ones too), and replay puts them back on their queue once per record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from sqlalchemy import Engine

from adapters.messaging.broker import build_broker
from adapters.messaging.dead_letter_keeper import drain
from adapters.messaging.publisher import message_for
from adapters.persistence.dead_letters import dead_letters, record_dead_letter
from adapters.persistence.engine import make_engine
from tests import services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


def put_on_xq(url: str, bodies: list[bytes]) -> None:
    broker = build_broker(url, [])
    broker.declare_queue("oms.ingest", ensure=True)  # declares oms.ingest, .DQ and .XQ
    broker.close()
    connection = pika.BlockingConnection(pika.URLParameters(url))
    for body in bodies:
        connection.channel().basic_publish("", "oms.ingest.XQ", body)
    connection.close()


def oms(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keeper_records_everything_on_the_xq_and_replay_puts_it_back_once(
    db: Engine, postgres_url: str, rabbitmq_url: str
) -> None:
    services.purge_queues(rabbitmq_url)
    known = message_for("oms.ingest", "ingest_order", {"number": "DLQ-1"}).asdict()
    record_dead_letter(db, known, "invalid message: number: the real reason")  # the worker's record
    stray = message_for("oms.ingest", "ingest_order", {"number": f"DLQ-{uuid.uuid4().hex[:6]}"})
    garbage = b"{not json " + uuid.uuid4().hex.encode()
    put_on_xq(rabbitmq_url, [json.dumps(known).encode(), stray.encode(), garbage])

    def record(message: dict[str, object], reason: str, keep: bool) -> None:
        record_dead_letter(db, message, reason, keep_existing_reason=keep)

    assert drain(rabbitmq_url, record) == 3
    assert services.queue_depth(rabbitmq_url, "oms.ingest.XQ") == 0
    letters = {d["message_id"]: d for d in dead_letters(db, "oms.ingest")}
    assert letters[known["message_id"]]["reason"] == "invalid message: number: the real reason"
    assert letters[known["message_id"]]["failures"] == 1, "the keeper counts no new failure"
    assert "no reason was recorded" in letters[stray.message_id]["reason"]
    # this test's own garbage: earlier tests of the session may have filed other raw bodies
    raw = [d for d in letters.values() if d["message"].get("raw", "") == garbage.decode()]
    assert len(raw) == 1 and "undecodable message" in raw[0]["reason"]

    env = {
        **os.environ,
        "OMS_DATABASE_URL": postgres_url,
        "OMS_BROKER_URL": rabbitmq_url,
        "PYTHONPATH": str(ROOT),
    }
    listed = oms(env, "dlq", "list", "oms.ingest", "--json")
    assert listed.returncode == 0 and known["message_id"] in listed.stdout
    shown = oms(env, "dlq", "show", "oms.ingest", "--id", str(letters[stray.message_id]["id"]))
    assert json.loads(shown.stdout)["message"]["args"][0] == stray.args[0]
    dry = oms(env, "dlq", "replay", "oms.ingest", "--all", "--dry-run")
    assert dry.returncode == 0 and services.queue_depth(rabbitmq_url, "oms.ingest") == 0
    first = oms(env, "dlq", "replay", "oms.ingest", "--all")
    assert first.returncode == 1, first.stderr  # the garbage: said why, never replayed
    assert "cannot be replayed: it is no dramatiq message" in first.stderr
    replayed = services.queue_depth(rabbitmq_url, "oms.ingest")
    assert replayed >= 2
    assert oms(env, "dlq", "replay", "oms.ingest", "--all").returncode == 1  # still there
    assert services.queue_depth(rabbitmq_url, "oms.ingest") == replayed, "replayed once only"


def test_queues_reports_every_pipeline_queue_and_health_names_what_is_down(
    postgres_url: str, rabbitmq_url: str
) -> None:
    env = {
        **os.environ,
        "OMS_DATABASE_URL": postgres_url,
        "OMS_BROKER_URL": rabbitmq_url,
        "PYTHONPATH": str(ROOT),
        "OMNITRON_URL": "http://127.0.0.1:9",
    }
    shown = oms(env, "queues", "--json")
    data = json.loads(shown.stdout)
    assert [q["queue"] for q in data["queues"]] == [
        "oms.ingest",
        "oms.split",
        "oms.packaging",
        "oms.report",
        "oms.poll",
        "oms.merchant",
    ]
    assert {
        "ready",
        "unacked",
        "consumers",
        "retry_backlog",
        "dead_letter_queue",
        "dead_letters_recorded",
    } <= set(data["queues"][0])
    assert "management API" in data["source"] or "passive declares" in data["source"]
    health = oms(env, "health", "--json")
    verdict = json.loads(health.stdout)
    assert health.returncode == 1 and not verdict["healthy"]
    assert verdict["checks"]["database"] == "ok" and verdict["checks"]["broker"] == "ok"
    assert verdict["checks"]["omnitron"].startswith("down:")
