"""The outbox on real PostgreSQL + RabbitMQ: published right after commit, swept after a crash,
kept when the broker is away."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import dramatiq
import pytest
from sqlalchemy import Engine, select

from adapters.messaging.broker import build_broker
from adapters.messaging.outbox_relay import OutboxRelay
from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import services
from tests import services as live
from tests.integration.test_repositories import example_order


@pytest.fixture
def broker(rabbitmq_url: str) -> Iterator[dramatiq.Broker]:
    live.purge_queues(rabbitmq_url)
    broker = build_broker(rabbitmq_url, [])
    yield broker
    broker.close()


def published_at(engine: Engine, order_id: int) -> list[object]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(t.outbox.c.published_at, t.outbox.c.payload).order_by(t.outbox.c.id)
        ).all()
    return [row.published_at for row in rows if row.payload == {"order_id": order_id}]


def test_follow_up_is_published_after_commit_and_marked(
    pg: Engine, broker: dramatiq.Broker, rabbitmq_url: str
) -> None:
    relay = OutboxRelay(pg, broker)
    result = services.ingest_order(example_order(), SqlUnitOfWork(pg, relay.publish_committed))
    assert result.order_id is not None
    assert live.queue_depth(rabbitmq_url, "oms.split") == 1
    relay.flush()
    [when] = published_at(pg, result.order_id)
    assert when is not None


def test_the_sweeper_publishes_what_a_crash_left_unsent(
    pg: Engine, broker: dramatiq.Broker, rabbitmq_url: str
) -> None:
    with pg.begin() as connection:  # rows earlier tests of the session left unsent are not ours
        connection.execute(t.outbox.delete().where(t.outbox.c.published_at.is_(None)))
    # publisher=None: the process "died" between commit and publish
    result = services.ingest_order(example_order(), SqlUnitOfWork(pg, publisher=None))
    assert result.order_id is not None
    assert published_at(pg, result.order_id) == [None]
    relay = OutboxRelay(pg, broker)
    assert relay.sweep(older_than=timedelta(0)) >= 1
    assert published_at(pg, result.order_id) != [None]
    assert live.queue_depth(rabbitmq_url, "oms.split") >= 1
    assert relay.sweep(older_than=timedelta(0)) == 0


def test_a_broker_outage_leaves_the_row_for_the_sweeper(pg: Engine) -> None:
    dead = build_broker(
        "amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1&retry_delay=0", []
    )
    relay = OutboxRelay(pg, dead)
    result = services.ingest_order(example_order(), SqlUnitOfWork(pg, relay.publish_committed))
    assert result.created and result.order_id is not None  # the order is stored regardless
    assert published_at(pg, result.order_id) == [None]
