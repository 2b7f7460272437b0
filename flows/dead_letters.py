"""Replaying and resolving dead letters: one implementation for `oms dlq replay|resolve` and the
Back Office's dead-letters page (spec 10, 12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from adapters.messaging.replay import PublishFn, is_replayable, replay_letter
from adapters.persistence.dead_letters import resolve

INVALID = ("invalid message:", "undecodable message:")  # bad input: replaying fails the same way


def failed_validation(letter: dict[str, Any]) -> bool:
    """Its body failed validation: replayed as it is, it fails the same way."""
    return str(letter["reason"]).startswith(INVALID)


def validation_warning(letter: dict[str, Any]) -> str:
    queue, number = letter["queue_name"], letter["id"]
    return (
        f"{number} failed validation; the same body will fail the same way unless the rules "
        f"changed ({letter['reason'][:120]}); if it will never be valid, use oms dlq resolve "
        f"{queue} --id {number} --note TEXT"
    )


def not_replayed(letter: dict[str, Any]) -> str | None:
    """Why this letter is not replayed, or None when it can be."""
    queue, number = letter["queue_name"], letter["id"]
    if letter.get("resolved_at"):
        return (
            f"dead letter {number} is resolved ({letter['resolution_note']}); it is not "
            "replayed (publish the body again if it is valid now)"
        )
    if not is_replayable(letter):
        return (
            f"dead letter {number} cannot be replayed: it is no dramatiq message, so only its "
            f"raw body was kept ({letter['reason'][:200]}); fix the body and publish it again "
            f"(oms dlq show {queue} --id {number} shows it), or close it with "
            f"oms dlq resolve {queue} --id {number} --note TEXT"
        )
    return None


@dataclass(frozen=True)
class Replayed:
    letter_id: int
    message_id: str
    failed_again: bool  # it was dead-lettered again before it was marked replayed


def replay(publish: PublishFn, engine: Engine, letter: dict[str, Any]) -> Replayed:
    """Put one replayable letter back on its queue with its own message id and a fresh retry
    budget (check not_replayed first)."""
    marked = replay_letter(publish, engine, letter)
    return Replayed(letter["id"], letter["message_id"], failed_again=not marked)


@dataclass(frozen=True)
class Resolved:
    outcome: str  # "resolved", "already" (resolved before), "failed_again" (nothing changed)
    message: str


def resolve_letter(engine: Engine, letter: dict[str, Any], note: str) -> Resolved:
    """Close a letter that will never be valid: kept for audit with the note, no longer counted
    open, never replayed. The note must say something."""
    note = note.strip()
    if not note:
        raise ValueError("resolving a dead letter needs a note saying why")
    number = letter["id"]
    if letter["resolved_at"]:
        when = f"{letter['resolved_at']:%Y-%m-%d %H:%M:%S}"
        return Resolved("already", f"{number} was resolved already at {when}")
    if not resolve(engine, letter, note):
        return Resolved("failed_again", f"dead letter {number} failed again just now; look again")
    return Resolved("resolved", f"resolved {number} ({letter['message_id']}): {note}")
