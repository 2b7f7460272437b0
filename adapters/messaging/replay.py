"""Put a recorded dead letter back on its queue (`oms dlq replay`, `POST /dead-letters/{id}/
replay/`): with its own message id, so a handler that recorded an outcome for it returns that
outcome, and a fresh retry budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from adapters.persistence.dead_letters import mark_replayed

PublishFn = Callable[[str, str, Any, str], object]


class NotReplayable(Exception):
    """The dead letter is not a dramatiq message (its raw body was kept): fix and publish it."""


def is_replayable(letter: dict[str, Any]) -> bool:
    return "raw" not in letter["message"]


def replay_letter(publish: PublishFn, engine: Engine, letter: dict[str, Any]) -> bool:
    """Publish, then mark the record replayed unless it failed again meanwhile (then False:
    the newer failure stays visible). A crash in between leaves it unmarked: replaying it again
    is harmless, the message id is the same."""
    if not is_replayable(letter):
        raise NotReplayable(
            f"dead letter {letter['id']} is not a dramatiq message; fix it and publish it again"
        )
    message = letter["message"]
    body = message["args"][0] if message["args"] else None
    publish(letter["queue_name"], message["actor_name"], body, message["message_id"])
    return mark_replayed(engine, letter)
