"""What an upstream publisher chooses (message id, actor name) fits where it is stored: a long
message id neither blocks the dead-letter keeper (on every queue) nor the transition log."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pika
import pytest
from sqlalchemy import Engine, func, select

from adapters.messaging.broker import build_broker
from adapters.messaging.dead_letter_keeper import drain
from adapters.messaging.publisher import message_for
from adapters.persistence import tables as t
from adapters.persistence.dead_letters import dead_letters, record_dead_letter
from adapters.persistence.engine import make_engine
from tests import services
from tests.integration.test_packaging import command, stored_order

LONG_ID = "upstream-" + "x" * 120


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


def put_on_xq(url: str, queue: str, bodies: list[bytes]) -> None:
    broker = build_broker(url, [])
    broker.declare_queue(queue, ensure=True)  # type: ignore[call-arg]  # declares .DQ, .XQ too
    broker.close()
    connection = pika.BlockingConnection(pika.URLParameters(url))
    for body in bodies:
        connection.channel().basic_publish("", f"{queue}.XQ", body)
    connection.close()


def test_a_long_message_id_blocks_no_dead_letter_on_any_queue(
    db: Engine, rabbitmq_url: str
) -> None:
    services.purge_queues(rabbitmq_url)
    poison = message_for("oms.ingest", "ingest_order", {"number": "DL-LONG"}).asdict()
    poison["message_id"] = LONG_ID
    poison["actor_name"] = "a" * 300 + "\x00"
    behind = message_for("oms.ingest", "ingest_order", {"number": "DL-BEHIND"})
    elsewhere = message_for("oms.split", "split_order", {"order_id": 1})
    put_on_xq(rabbitmq_url, "oms.ingest", [json.dumps(poison).encode(), behind.encode()])
    put_on_xq(rabbitmq_url, "oms.split", [elsewhere.encode()])

    def record(message: dict[str, object], reason: str, keep: bool) -> None:
        record_dead_letter(db, message, reason, keep_existing_reason=keep)

    assert drain(rabbitmq_url, record) == 3
    assert services.queue_depth(rabbitmq_url, "oms.ingest.XQ") == 0
    ingest = {d["message"]["message_id"]: d for d in dead_letters(db, "oms.ingest")}
    assert {LONG_ID, behind.message_id} <= set(ingest)
    kept = ingest[LONG_ID]
    assert len(kept["message_id"]) <= 64 and kept["message"]["args"] == list(poison["args"])
    assert len(kept["actor_name"]) <= 255 and "\x00" not in kept["actor_name"]
    assert [d["message_id"] for d in dead_letters(db, "oms.split")] == [elsewhere.message_id]
    put_on_xq(rabbitmq_url, "oms.ingest", [json.dumps(poison).encode()])  # the XQ copy again
    assert drain(rabbitmq_url, record) == 1
    again = [d for d in dead_letters(db, "oms.ingest") if d["message"]["message_id"] == LONG_ID]
    assert len(again) == 1 and again[0]["failures"] == 1, "same id, same record"


def test_odd_message_ids_and_actor_names_are_recorded(db: Engine) -> None:
    odd = {"message_id": ["not", "a", "string"], "queue_name": "oms.report", "actor_name": 7}
    record_dead_letter(db, {**odd, "args": []}, "failed after 3 retries: \x00 in a reason")
    [letter] = [d for d in dead_letters(db, "oms.report") if d["actor_name"] == "7"]
    assert letter["message_id"] == "['not', 'a', 'string']" and "\x00" not in letter["reason"]


def test_a_long_message_id_is_kept_by_the_transition_log(engine: Engine) -> None:
    package_id = stored_order(engine)[0]
    first = command(engine, package_id, message_id=LONG_ID)
    assert first.record.applied and not first.repeated
    again = command(engine, package_id, message_id=LONG_ID)
    assert again.repeated and again.record.applied, "a redelivery returns its first outcome"
    other = command(engine, package_id, message_id=LONG_ID + "-other")  # same 64-char prefix
    assert not other.repeated and not other.record.applied  # already packed: rejected, logged
    with engine.connect() as c:
        logged = c.execute(
            select(func.count()).where(t.transition_log.c.package_id == package_id)
        ).scalar_one()
    assert logged == 2
