"""Messages published in AMQP transactions on real RabbitMQ (adapters/messaging/batch_publisher.py):
every message RabbitMQ took is on its queue, one no queue took is reported, a broken connection
raises and the next batch reconnects; the relay sends what a batch could not, one by one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pika
import pytest
from sqlalchemy import create_engine

from adapters.messaging.batch_publisher import BATCH_MOST, TxPublisher
from adapters.messaging.broker import build_broker
from adapters.messaging.outbox_relay import OutboxRelay, PublishedMarks
from adapters.messaging.publisher import message_for
from domain.messages import OutboxMessage, SplitOrder
from tests import services as live

pytestmark = pytest.mark.services


@pytest.fixture
def broker(rabbitmq_url: str) -> Iterator[dramatiq.Broker]:
    broker = build_broker(rabbitmq_url, [])
    yield broker
    broker.close()


@pytest.fixture
def queues(rabbitmq_url: str) -> Iterator[list[str]]:
    names = [f"test.batch.{uuid.uuid4().hex[:8]}" for _ in range(2)]
    yield names
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    for name in names:
        for queue in (name, f"{name}.DQ", f"{name}.XQ"):
            connection.channel().queue_delete(queue)
    connection.close()


def drain(url: str, queue: str) -> list[dict[str, Any]]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel, bodies = connection.channel(), []
    while True:
        method, _properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        bodies.append(json.loads(body))
    connection.close()
    return bodies


def delete_queue(url: str, queue: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    connection.channel().queue_delete(queue)
    connection.close()


def test_a_batch_lands_on_its_queues_with_its_message_ids(
    broker: Any, queues: list[str], rabbitmq_url: str
) -> None:
    messages = [message_for(queues[n % 2], "some_actor", {"n": n}) for n in range(5)]

    taken = TxPublisher(broker).publish(messages)

    assert taken == [m.message_id for m in messages]
    first, second = (drain(rabbitmq_url, q) for q in queues)
    assert [(b["message_id"], b["args"]) for b in first] == [
        (m.message_id, [{"n": n}]) for n, m in enumerate(messages) if n % 2 == 0
    ]
    assert [b["args"] for b in second] == [[{"n": 1}], [{"n": 3}]]


def test_more_messages_than_a_transaction_holds_go_in_several(
    broker: Any, queues: list[str], rabbitmq_url: str
) -> None:
    messages = [message_for(queues[0], "some_actor", {"n": n}) for n in range(BATCH_MOST + 3)]

    assert len(TxPublisher(broker).publish(messages)) == BATCH_MOST + 3
    assert [b["args"][0]["n"] for b in drain(rabbitmq_url, queues[0])] == list(
        range(BATCH_MOST + 3)
    )


def test_a_message_no_queue_takes_is_reported_and_its_queue_declared_again(
    broker: Any, queues: list[str], rabbitmq_url: str
) -> None:
    publisher = TxPublisher(broker)
    publisher.publish([message_for(queues[1], "some_actor", {"warm": True})])
    delete_queue(rabbitmq_url, queues[1])  # under the broker, which believes it declared
    messages = [message_for(q, "some_actor", {"q": q}) for q in (queues[0], queues[1], queues[0])]

    taken = publisher.publish(messages)

    assert taken == [messages[0].message_id, messages[2].message_id]
    assert queues[1] in broker.queues_pending
    assert len(drain(rabbitmq_url, queues[0])) == 2
    assert publisher.publish([messages[1]]) == [messages[1].message_id]  # declared again
    assert [b["message_id"] for b in drain(rabbitmq_url, queues[1])] == [messages[1].message_id]


def test_a_lost_connection_raises_and_the_next_batch_reconnects(
    broker: Any, queues: list[str], rabbitmq_url: str
) -> None:
    publisher = TxPublisher(broker)
    publisher.publish([message_for(queues[0], "some_actor", {"n": 0})])
    lost = broker.connection
    lost.close()  # the thread's connection, under the publisher's channel

    with pytest.raises(pika.exceptions.AMQPConnectionError):
        publisher.publish([message_for(queues[0], "some_actor", {"n": n}) for n in (1, 2)])
    assert broker.connection is not lost
    again = [message_for(queues[0], "some_actor", {"n": n}) for n in (3, 4)]
    assert publisher.publish(again) == [m.message_id for m in again]
    assert [b["args"][0]["n"] for b in drain(rabbitmq_url, queues[0])] == [0, 3, 4]


class RecordedMarks(PublishedMarks):
    def __init__(self) -> None:
        super().__init__(create_engine("sqlite://"))
        self.marked: list[str] = []

    def add(self, message_ids: list[str]) -> None:
        self.marked += message_ids


def test_the_relay_sends_what_rabbitmq_returned_one_by_one_and_marks_everything(
    broker: Any, rabbitmq_url: str
) -> None:
    live.purge_queues(rabbitmq_url)
    relay = OutboxRelay(create_engine("sqlite://"), broker)
    relay.marks = marks = RecordedMarks()
    relay.publish_committed([OutboxMessage(SplitOrder(order_id=1)) for _ in range(2)])
    delete_queue(rabbitmq_url, "oms.split")  # the next batch's messages come back
    messages = [OutboxMessage(SplitOrder(order_id=n)) for n in (2, 3, 4)]

    relay.publish_committed(messages)

    assert sorted(marks.marked[2:]) == sorted(m.message_id for m in messages)
    assert [b["args"][0]["order_id"] for b in drain(rabbitmq_url, "oms.split")] == [2, 3, 4]
