"""The dead-letter record in the database: every message RabbitMQ dead-letters is kept here
too, with its reason, before the dead-letter queue's TTL can drop it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.persistence import tables as t
from adapters.persistence.keys import clipped, message_key
from domain.references import unprintable

MAX_ID = 2**63 - 1


def order_of(message: dict[str, Any]) -> tuple[str | None, int | None]:
    """The order an inbound order message names, whatever else is wrong with it: its body's
    `number` and `channel.id` as the sender gave them (an integer number as its digits, a
    channel id as digits too), also from an envelope kept raw. (None, None) for other messages:
    they name ids, which the worker resolves (its log context)."""
    if "ingest_order" not in (message.get("actor_name"), _actor_of_raw(message)):
        return None, None
    body = _body(message)
    if not isinstance(body, dict):
        return None, None
    channel = body.get("channel")
    return _order_number(body.get("number")), _channel_id(
        channel.get("id") if isinstance(channel, dict) else None
    )


def _raw(message: dict[str, Any]) -> Any:
    """The decoded JSON of an envelope kept raw (it was no dramatiq message), else None."""
    raw = message.get("raw")
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _actor_of_raw(message: dict[str, Any]) -> Any:
    data = _raw(message)
    return data.get("actor_name") if isinstance(data, dict) else None


def _body(message: dict[str, Any]) -> Any:
    args = message.get("args")
    if not args and "raw" in message:
        data = _raw(message)
        args = data.get("args") if isinstance(data, dict) else None
    # a list as published, a tuple as the worker's dramatiq message holds it
    return args[0] if isinstance(args, list | tuple) and len(args) == 1 else None


def _order_number(value: Any) -> str | None:
    if type(value) is int:
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    return clipped(value, 128)


def _channel_id(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if type(value) is int and 0 < value <= MAX_ID else None


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
    # the worker's order number (its log context), unless a column cannot hold it or a person
    # could not read it (a control character, perhaps why the message was refused)
    storable = order_number and len(order_number) <= 128 and unprintable(order_number) is None
    number = order_number if storable else body_number
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
                    "order_channel_id": func.coalesce(
                        statement.excluded.order_channel_id, t.dead_letters.c.order_channel_id
                    ),
                },
            )
        )


def letter_state(letter: dict[str, Any]) -> str:
    """open, replayed (put back, not failed since) or resolved (closed for good)."""
    if letter.get("resolved_at"):
        return "resolved"
    return "replayed" if letter.get("replayed_at") else "open"


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


def dead_letters(
    engine: Engine,
    queue_name: str | None = None,
    order_number: str | None = None,
    channel_id: int | None = None,
) -> list[dict[str, Any]]:
    """Dead letters by id, of one queue or all; of one order when a number is given (with a
    channel: that channel's, and those whose recorder knew no channel)."""
    letters = t.dead_letters
    query = select(letters).order_by(letters.c.id)
    if queue_name is not None:
        query = query.where(letters.c.queue_name == queue_name)
    if order_number is not None:
        query = query.where(letters.c.order_number == order_number)
        if channel_id is not None:
            query = query.where(
                or_(letters.c.order_channel_id.is_(None), letters.c.order_channel_id == channel_id)
            )
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
