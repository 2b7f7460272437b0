"""The outbox sweeper on real PostgreSQL + RabbitMQ: a row that cannot be published holds back
no other row, sent rows are not sent again, and no row lock is held while publishing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dramatiq
import pytest
from sqlalchemy import Engine, insert, select, text

from adapters.messaging.broker import build_broker
from adapters.messaging.outbox_relay import OutboxRelay
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from tests import services as live


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=3)
    with engine.begin() as c:  # rows earlier tests left unpublished would be swept too
        c.execute(t.outbox.delete().where(t.outbox.c.published_at.is_(None)))
    yield engine
    engine.dispose()


@pytest.fixture
def broker(rabbitmq_url: str) -> Iterator[dramatiq.Broker]:
    live.purge_queues(rabbitmq_url)
    broker = build_broker(rabbitmq_url, [])
    yield broker
    broker.close()


def add_rows(engine: Engine, commands: list[str]) -> list[str]:
    """Unpublished outbox rows, oldest first, as a crash between commit and publish leaves."""
    ids = [str(uuid.uuid4()) for _ in commands]
    start = datetime.now(UTC) - timedelta(minutes=5)
    with engine.begin() as c:
        for n, (message_id, command) in enumerate(zip(ids, commands, strict=True)):
            c.execute(
                insert(t.outbox).values(
                    message_id=message_id,
                    command=command,
                    payload={"order_id": 900_000 + n},
                    created_at=start + timedelta(seconds=n),
                )
            )
    return ids


def published(engine: Engine, ids: list[str]) -> list[bool]:
    with engine.connect() as c:
        rows = dict(
            c.execute(
                select(t.outbox.c.message_id, t.outbox.c.published_at).where(
                    t.outbox.c.message_id.in_(ids)
                )
            ).all()
        )
    return [rows[i] is not None for i in ids]


class LockProbe(OutboxRelay):
    """Before each publish, asks from another connection whether the row is locked."""

    def __init__(self, engine: Engine, broker: dramatiq.Broker):
        super().__init__(engine, broker)
        self.locked: list[bool] = []

    def _send(self, message_id: str, command: str, payload: dict[str, object]) -> None:
        with self.engine.connect() as c:
            c.execute(text("SET lock_timeout = '100ms'"))
            try:
                c.execute(
                    select(t.outbox.c.id)
                    .where(t.outbox.c.message_id == message_id)
                    .with_for_update()
                ).all()
                self.locked.append(False)
            except Exception:
                self.locked.append(True)
            c.rollback()
        super()._send(message_id, command, payload)


def test_a_row_that_cannot_be_published_holds_back_no_other(
    pg: Engine, broker: dramatiq.Broker, rabbitmq_url: str
) -> None:
    before, poison, after = add_rows(pg, ["split_order", "no_such_command", "split_order"])
    relay = LockProbe(pg, broker)
    assert relay.sweep(older_than=timedelta(0)) == 2
    assert published(pg, [before, poison, after]) == [True, False, True]
    assert live.queue_depth(rabbitmq_url, "oms.split") == 2
    assert relay.locked == [False, False, False], "no row lock held across broker I/O"
    assert relay.sweep(older_than=timedelta(0)) == 0  # the poison row waits out its backoff
    assert live.queue_depth(rabbitmq_url, "oms.split") == 2, "nothing was sent twice"
    assert published(pg, [poison]) == [False]  # kept: fixed or looked at by a person


def test_rows_that_can_never_be_published_do_not_end_the_round(
    pg: Engine, broker: dramatiq.Broker, rabbitmq_url: str
) -> None:
    """Only broker failures end a round early; five bad rows at the head of the outbox are
    set aside one by one and the good row behind them goes out in the same sweep."""
    *poison, good = add_rows(pg, ["no_such_command"] * 5 + ["split_order"])
    relay = OutboxRelay(pg, broker)
    assert relay.sweep(older_than=timedelta(0)) == 1
    assert published(pg, [*poison, good]) == [False] * 5 + [True]
    assert live.queue_depth(rabbitmq_url, "oms.split") == 1
