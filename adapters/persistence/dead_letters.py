"""The dead-letter record in the database: every message RabbitMQ dead-letters is kept here
too, with its reason, before the dead-letter queue's TTL can drop it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.persistence import tables as t


def record_dead_letter(
    engine: Engine, message: dict[str, Any], reason: str, keep_existing_reason: bool = False
) -> None:
    """Upsert by message id. The worker middleware records with the real reason; the keeper
    (which only sees the XQ copy) keeps that reason and does not count a new failure."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(t.dead_letters).values(
            message_id=message["message_id"],
            queue_name=message["queue_name"],
            actor_name=message["actor_name"],
            message=message,
            reason=reason,
            failures=1,
            first_failed_at=now,
            last_failed_at=now,
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
                },
            )
        )


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
