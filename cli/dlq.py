"""`oms dlq keep|list|show|replay`: dead letters, recorded in the database, put back on demand."""

from __future__ import annotations

import json
import time
from typing import Any

import structlog

from adapters.logging import configure_logging
from adapters.messaging.broker import build_broker
from adapters.messaging.dead_letter_keeper import drain
from adapters.messaging.publisher import publish
from adapters.persistence.dead_letters import (
    dead_letter,
    dead_letters,
    mark_replayed,
    record_dead_letter,
)
from adapters.persistence.engine import make_engine
from adapters.settings import Settings
from cli.table import format_rows

log = structlog.get_logger(__name__)


def keep(*, loop: bool, interval: float = 5.0) -> int:
    """Move everything in the pipeline's .XQ queues into the dead_letters table."""
    configure_logging()
    settings = Settings.from_env()
    engine = make_engine(settings.database_url, pool_size=1)

    def record(message: dict[str, Any], reason: str, keep_reason: bool) -> None:
        record_dead_letter(engine, message, reason, keep_existing_reason=keep_reason)

    while True:
        try:
            moved = drain(settings.broker_url, record)
        except Exception as error:  # broker or database away: the next round tries again
            if not loop:
                raise
            log.warning("dead_letters.keep_failed", error=repr(error))
            moved = 0
        if not loop:
            print(f"kept {moved} dead letters")
            return 0
        time.sleep(interval)


def list_letters(queue: str, *, as_json: bool) -> int:
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    letters = dead_letters(engine, queue)
    if as_json:
        print(json.dumps([_summary(letter) for letter in letters], indent=2, default=str))
        return 0
    rows = [["id", "message id", "actor", "failures", "last failure", "replayed", "reason"]]
    for letter in letters:
        rows.append(
            [
                str(letter["id"]),
                letter["message_id"][:36],
                letter["actor_name"],
                str(letter["failures"]),
                f"{letter['last_failed_at']:%Y-%m-%d %H:%M:%S}",
                "yes" if letter["replayed_at"] else "no",
                letter["reason"][:110],
            ]
        )
    print(format_rows(rows, numeric={0, 3}))
    print(f"{len(letters)} dead letters in {queue}")
    return 0


def _summary(letter: dict[str, Any]) -> dict[str, Any]:
    return {
        k: letter[k]
        for k in (
            "id",
            "message_id",
            "actor_name",
            "reason",
            "failures",
            "first_failed_at",
            "last_failed_at",
            "replayed_at",
        )
    }


def show(queue: str, record_id: int) -> int:
    letter = dead_letter(
        make_engine(Settings.from_env().database_url, pool_size=1), queue, record_id
    )
    if letter is None:
        raise SystemExit(f"no dead letter {record_id} in {queue}")
    print(json.dumps(letter, indent=2, default=str, ensure_ascii=False))
    return 0


def replay(queue: str, *, record_id: int | None, every: bool, dry_run: bool) -> int:
    """Put dead letters back on their queue with their own message id (so a handler that
    recorded an outcome for it returns that outcome) and a fresh retry budget."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url, pool_size=1)
    if record_id is not None:
        letter = dead_letter(engine, queue, record_id)
        letters = [letter] if letter is not None else []
        if not letters:
            raise SystemExit(f"no dead letter {record_id} in {queue}")
    elif every:
        letters = [d for d in dead_letters(engine, queue) if d["replayed_at"] is None]
    else:
        raise SystemExit("give --id ID or --all")
    replayable = [d for d in letters if "raw" not in d["message"]]
    for letter in letters:
        if "raw" in letter["message"]:
            print(f"skip {letter['id']}: not a dramatiq message; fix it and publish it again")
    if dry_run:
        for letter in replayable:
            print(f"would replay {letter['id']} ({letter['message_id']}): {letter['reason'][:80]}")
        return 0
    broker = build_broker(settings.broker_url, [])
    try:
        for letter in replayable:
            message = letter["message"]
            body = message["args"][0] if message["args"] else None
            publish(broker, queue, message["actor_name"], body, message_id=message["message_id"])
            # after the publish, and only if it has not failed again meanwhile (a crash in
            # between leaves it unmarked: replaying it again is harmless, same message id)
            if mark_replayed(engine, letter):
                print(f"replayed {letter['id']} ({letter['message_id']})")
            else:
                print(f"replayed {letter['id']} ({letter['message_id']}): failed again already")
    finally:
        broker.close()
    print(f"{len(replayable)} replayed to {queue}")
    return 0
