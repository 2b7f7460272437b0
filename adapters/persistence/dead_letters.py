"""The dead-letter record in the database: every message RabbitMQ dead-letters is kept here
too, with its reason, before the dead-letter queue's TTL can drop it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.persistence import tables as t
from adapters.persistence.keys import clipped, message_key
from domain.references import unprintable


def order_of(message: dict[str, Any]) -> tuple[str | None, int | None]:
    """The order an inbound order message names (its body's number and channel id), else
    (None, None): other messages name ids, which the worker resolves (its log context)."""
    args = message.get("args")
    body = args[0] if isinstance(args, list) and len(args) == 1 else None
    if message.get("actor_name") != "ingest_order" or not isinstance(body, dict):
        return None, None
    number, channel = body.get("number"), body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    return (
        number if _storable_number(number) else None,
        channel_id if type(channel_id) is int and 0 < channel_id < 2**63 else None,
    )


def _storable_number(number: Any) -> bool:
    """An order number the column can hold and a person can read: a control character or a
    lone surrogate (the reason the message was refused, perhaps) is not recorded as one."""
    return isinstance(number, str) and 0 < len(number) <= 128 and unprintable(number) is None


def record_dead_letter(
    engine: Engine,
    message: dict[str, Any],
    reason: str,
    keep_existing_reason: bool = False,
    order_number: str | None = None,
) -> None:
    """Upsert by message id. The worker middleware records with the real reason; the keeper
    (which only sees the XQ copy) keeps that reason and does not count a new failure. What the
    publisher chose (message id, actor name) is made to fit its column: a message id longer than
    the column is keyed by its digest. The order it concerned: the one the worker knew (its log
    context's order number), else an inbound order's own number and channel."""
    now = datetime.now(UTC)
    body_number, channel_id = order_of(message)
    number = order_number if _storable_number(order_number) else body_number
    with engine.begin() as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(t.dead_letters).values(
            message_id=message_key(message.get("message_id")),
            queue_name=clipped(message.get("queue_name"), 255),
            actor_name=clipped(message.get("actor_name"), 255),
            message=message,  # as received: replay uses its own message id
            reason=clipped(reason, 100_000),
            failures=1,
            first_failed_at=now,
            last_failed_at=now,
            order_number=number,
            order_channel_id=channel_id if number == body_number else None,
        )
        if keep_existing_reason:
            connection.execute(statement.on_conflict_do_nothing(index_elements=["message_id"]))
            return
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["message_id"],
                set_={
                    "reason": statement.excluded.reason,
                    "message": statement.excluded.message,
                    "failures": t.dead_letters.c.failures + 1,
                    "last_failed_at": statement.excluded.last_failed_at,
                    "replayed_at": None,
                    "resolved_at": None,  # failed again: open again
                    "order_number": func.coalesce(
                        statement.excluded.order_number, t.dead_letters.c.order_number
                    ),
                },
            )
        )


def open_dead_letters(engine: Engine) -> dict[str, int]:
    """Dead letters neither replayed nor resolved, per queue (what the gauge and `oms queues`
    count)."""
    with engine.connect() as connection:
        return dict(
            connection.execute(
                select(t.dead_letters.c.queue_name, func.count())
                .where(t.dead_letters.c.replayed_at.is_(None))
                .where(t.dead_letters.c.resolved_at.is_(None))
                .group_by(t.dead_letters.c.queue_name)
            ).all()
        )


def recorded_queues(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(t.dead_letters.c.queue_name).distinct()).scalars())


def resolve(engine: Engine, letter: dict[str, Any], note: str) -> bool:
    """Mark a dead letter resolved (it will never be valid: kept for audit, no longer open),
    unless it failed again since it was read. False when it did."""
    with engine.begin() as connection:
        marked = connection.execute(
            update(t.dead_letters)
            .where(
                t.dead_letters.c.id == letter["id"],
                t.dead_letters.c.failures == letter["failures"],
            )
            .values(resolved_at=datetime.now(UTC), resolution_note=note)
        )
    return bool(marked.rowcount)


def dead_letters(engine: Engine, queue_name: str | None = None) -> list[dict[str, Any]]:
    query = select(t.dead_letters).order_by(t.dead_letters.c.id)
    if queue_name is not None:
        query = query.where(t.dead_letters.c.queue_name == queue_name)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def dead_letter(engine: Engine, queue_name: str, record_id: int) -> dict[str, Any] | None:
    query = select(t.dead_letters).where(
        t.dead_letters.c.queue_name == queue_name, t.dead_letters.c.id == record_id
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else dict(row._mapping)


def mark_replayed(engine: Engine, letter: dict[str, Any]) -> bool:
    """Mark a record replayed after its message was put back, unless it failed again since it
    was read (a worker may dead-letter the replayed message before this runs): that newer
    failure stays visible as not replayed. False when it did."""
    with engine.begin() as connection:
        marked = connection.execute(
            update(t.dead_letters)
            .where(
                t.dead_letters.c.id == letter["id"],
                t.dead_letters.c.failures == letter["failures"],
                t.dead_letters.c.last_failed_at == letter["last_failed_at"],
            )
            .values(replayed_at=datetime.now(UTC))
        )
    return bool(marked.rowcount)


def dead_letter_by_id(engine: Engine, record_id: int) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(
            select(t.dead_letters).where(t.dead_letters.c.id == record_id)
        ).first()
    return None if row is None else dict(row._mapping)
