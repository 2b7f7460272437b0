"""`oms dlq replay` must not hide a re-failure that lands before it marks the record replayed
(issue 8, item 16a)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from adapters.messaging.publisher import message_for
from adapters.persistence.dead_letters import dead_letter, record_dead_letter
from adapters.persistence.engine import make_engine
from cli import dlq
from tests import services


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


def _letter_id(engine: Engine, message_id: str) -> int:
    from sqlalchemy import select

    from adapters.persistence import tables as t

    with engine.connect() as c:
        return int(
            c.execute(
                select(t.dead_letters.c.id).where(t.dead_letters.c.message_id == message_id)
            ).scalar_one()
        )


def test_an_immediate_refailure_after_replay_stays_visible(
    db: Engine, postgres_url: str, rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.purge_queues(rabbitmq_url)
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("OMS_BROKER_URL", rabbitmq_url)
    body = {"number": f"REPLAY-{uuid.uuid4().hex[:6]}"}
    message = message_for("oms.ingest", "ingest_order", body).asdict()
    record_dead_letter(db, message, "invalid message: number: first failure")
    record_id = _letter_id(db, message["message_id"])
    real_publish = dlq.publish

    def publish_then_fail_fast(*args: Any, **kwargs: Any) -> None:
        real_publish(*args, **kwargs)  # the real broker gets it ...
        # ... and a worker takes it and dead-letters it again before replay's next line runs
        record_dead_letter(db, message, "invalid message: number: failed again")

    monkeypatch.setattr(dlq, "publish", publish_then_fail_fast)
    assert dlq.replay("oms.ingest", record_id=record_id, every=False, dry_run=False) == 0
    assert services.queue_depth(rabbitmq_url, "oms.ingest") == 1
    letter = dead_letter(db, "oms.ingest", record_id)
    assert letter is not None and letter["failures"] == 2
    assert letter["reason"] == "invalid message: number: failed again"
    assert letter["replayed_at"] is None, "the re-failure is hidden as replayed"


def test_a_replay_with_no_refailure_is_marked_replayed_once(
    db: Engine, postgres_url: str, rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.purge_queues(rabbitmq_url)
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("OMS_BROKER_URL", rabbitmq_url)
    message = message_for("oms.ingest", "ingest_order", {"number": "REPLAY-OK"}).asdict()
    record_dead_letter(db, message, "invalid message: number: once")
    record_id = _letter_id(db, message["message_id"])
    assert dlq.replay("oms.ingest", record_id=record_id, every=False, dry_run=False) == 0
    letter = dead_letter(db, "oms.ingest", record_id)
    assert letter is not None and letter["replayed_at"] is not None
    assert services.queue_depth(rabbitmq_url, "oms.ingest") == 1
