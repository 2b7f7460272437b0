"""`oms dlq keep|list|show|replay|resolve`: dead letters, recorded in the database, put back on
demand, or resolved (kept for audit) when they will never be valid."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from typing import Any

import structlog

from adapters.logging import configure_logging
from adapters.messaging.broker import build_broker
from adapters.messaging.dead_letter_keeper import PIPELINE_QUEUES, drain
from adapters.messaging.publisher import publish
from adapters.messaging.queue_sampler import sample_queue_depths
from adapters.messaging.replay import is_replayable
from adapters.persistence.dead_letters import (
    dead_letter,
    dead_letters,
    letter_state,
    record_dead_letter,
    recorded_queues,
)
from adapters.persistence.engine import make_engine
from adapters.settings import Settings
from cli.table import format_rows
from flows.dead_letters import failed_validation, not_replayed, validation_warning
from flows.dead_letters import replay as replay_flow
from flows.dead_letters import resolve_letter as resolve_flow

log = structlog.get_logger(__name__)
SAMPLE_SECONDS = 10.0


def keep(*, loop: bool, interval: float = 5.0) -> int:
    """Move everything in the pipeline's .XQ queues into the dead_letters table; looping, also
    sample every queue's depth for the Back Office's charts every OMS_QUEUE_SAMPLE_SECONDS
    (default 10; 0 turns it off)."""
    configure_logging()
    settings = Settings.from_env()
    engine = make_engine(settings.database_url, pool_size=1)
    every = float(os.environ.get("OMS_QUEUE_SAMPLE_SECONDS", SAMPLE_SECONDS))
    override = os.environ.get("OMS_RABBITMQ_MANAGEMENT_URL")
    sampled = 0.0

    def record(message: dict[str, Any], reason: str, keep_reason: bool) -> None:
        record_dead_letter(engine, message, reason, keep_existing_reason=keep_reason)

    while True:
        if loop and every > 0 and time.monotonic() - sampled >= every:
            sampled = time.monotonic()
            try:
                sample_queue_depths(settings.broker_url, engine, override)
            except Exception as error:  # the chart misses a sample; the keeper goes on
                log.warning("queues.sample_failed", error=repr(error))
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
        time.sleep(min(interval, every) if every > 0 else interval)


def known_queue(engine: Any, queue: str) -> str:
    """The queue, when it is a pipeline queue or has recorded dead letters; else exit 2 with
    the queues there are (a typo must not read as "0 dead letters")."""
    if queue in PIPELINE_QUEUES or queue in recorded_queues(engine):
        return queue
    print(
        f"oms: unknown queue {queue!r}; the pipeline's queues are {', '.join(PIPELINE_QUEUES)}",
        file=sys.stderr,
    )
    raise SystemExit(2)


def state(letter: dict[str, Any]) -> str:
    return letter_state(letter)


def list_letters(queue: str | None, *, as_json: bool, order: str | None = None) -> int:
    """One queue's dead letters, or every queue's (the queue is then a column); with `order`,
    those that name that order (an inbound order's number, or the order a stage was handling)."""
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    if queue is not None:
        known_queue(engine, queue)
    letters = dead_letters(engine, queue, order_number=order)
    if as_json:
        print(json.dumps([_summary(letter) for letter in letters], indent=2, default=str))
        return 0
    head = ["id", "queue"] if queue is None else ["id"]
    rows = [[*head, "order", "message id", "actor", "failures", "last failure", "state", "reason"]]
    for letter in letters:
        rows.append(
            [
                str(letter["id"]),
                *([letter["queue_name"]] if queue is None else []),
                _order_cell(letter),
                letter["message_id"][:36],
                letter["actor_name"],
                str(letter["failures"]),
                f"{letter['last_failed_at']:%Y-%m-%d %H:%M:%S}",
                state(letter),
                (letter.get("resolution_note") or letter["reason"])[:110]
                if state(letter) == "resolved"
                else letter["reason"][:110],
            ]
        )
    print(format_rows(rows, numeric={0, len(head) + 3}))
    opened = sum(1 for letter in letters if state(letter) == "open")
    where = f"in {queue}" if queue is not None else "in all queues"
    about = f" naming order {order!r}" if order is not None else ""
    print(f"{len(letters)} dead letters{about} {where}, {opened} open")
    return 0


def _order_cell(letter: dict[str, Any]) -> str:
    """The order a dead letter names, `-` when its recorder knew none; long numbers cut."""
    number = letter.get("order_number")
    if not number:
        return "-"
    shown = number if len(number) <= 40 else number[:39] + "…"
    return shown.replace("\n", " ")


def _summary(letter: dict[str, Any]) -> dict[str, Any]:
    return {
        k: letter[k]
        for k in (
            "id",
            "queue_name",
            "message_id",
            "actor_name",
            "order_number",
            "order_channel_id",
            "reason",
            "failures",
            "first_failed_at",
            "last_failed_at",
            "replayed_at",
            "resolved_at",
            "resolution_note",
        )
    }


def show(queue: str, record_id: int) -> int:
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    letter = dead_letter(engine, known_queue(engine, queue), record_id)
    if letter is None:
        raise SystemExit(f"no dead letter {record_id} in {queue}")
    print(json.dumps(letter, indent=2, default=str, ensure_ascii=False))
    return 0


def replay(queue: str, *, record_id: int | None, every: bool, dry_run: bool) -> int:
    """Put dead letters back on their queue with their own message id (so a handler that
    recorded an outcome for it returns that outcome) and a fresh retry budget. Exit 1 when a
    letter asked for was not replayed (resolved, or no dramatiq message), each with why."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url, pool_size=1)
    known_queue(engine, queue)
    if record_id is not None:
        letter = dead_letter(engine, queue, record_id)
        letters = [letter] if letter is not None else []
        if not letters:
            raise SystemExit(f"no dead letter {record_id} in {queue}")
    elif every:
        letters = [d for d in dead_letters(engine, queue) if state(d) == "open"]
    else:
        raise SystemExit("give --id ID or --all")
    replayable = [d for d in letters if not_replayed(d) is None]
    refused = [d for d in letters if d not in replayable]
    for letter in refused:
        print(f"oms: {not_replayed(letter)}", file=sys.stderr)
    for letter in replayable:
        if failed_validation(letter):
            print(f"warning: {validation_warning(letter)}", file=sys.stderr)
    if dry_run:
        for letter in replayable:
            print(f"would replay {letter['id']} ({letter['message_id']}): {letter['reason'][:80]}")
        return 0
    if replayable:
        broker = build_broker(settings.broker_url, [])

        def send(queue_name: str, actor_name: str, body: Any, message_id: str) -> object:
            return publish(broker, queue_name, actor_name, body, message_id=message_id)

        try:
            for letter in replayable:
                again = (
                    ": failed again already"
                    if replay_flow(send, engine, letter).failed_again
                    else ""
                )
                print(f"replayed {letter['id']} ({letter['message_id']}){again}")
        finally:
            broker.close()
    left = f"; {len(refused)} not replayed (said why above)" if refused else ""
    print(f"{len(replayable)} replayed to {queue}{left}")
    return 1 if refused else 0


def resolve_letter(queue: str, *, record_id: int, note: str) -> int:
    """Close a dead letter that will never be valid: kept for audit (with the note, shown by
    list and show), no longer counted by oms_dead_letters nor oms queues, never replayed."""
    if not note.strip():
        raise SystemExit("oms dlq resolve needs a --note saying why")
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    letter = dead_letter(engine, known_queue(engine, queue), record_id)
    if letter is None:
        raise SystemExit(f"no dead letter {record_id} in {queue}")
    done = resolve_flow(engine, letter, note)
    if done.outcome == "failed_again":
        raise SystemExit(done.message)
    print(done.message)
    return 0


def no_order(engine: Any, number: str, channel: int | None) -> str:
    """`oms show order NUMBER` found nothing: say so, and when dead letters name that order
    (an invalid inbound order is never stored), which, why, and how to list or replay them."""
    missing = f"no order {number!r}" + (f" in channel {channel}" if channel else "")
    letters = dead_letters(engine, None, order_number=number, channel_id=channel)
    if not letters:
        return missing
    last = letters[-1]
    queue, record = last["queue_name"], last["id"]
    count = f"{len(letters)} dead letters name it; the last" if len(letters) > 1 else "dead letter"
    lines = [
        f"{missing}: it was dead-lettered ({count}: {queue} {record}, {state(last)}, "
        f"{last['last_failed_at']:%Y-%m-%d %H:%M:%S}: {last['reason'][:300]})",
        f"  list:    oms dlq list --order {shlex.quote(number)}",
        f"  show:    oms dlq show {queue} --id {record}",
    ]
    if state(last) == "open" and is_replayable(last):
        if failed_validation(last):
            lines.append(
                "  it failed validation: the same body fails again; publish a corrected order, "
                f"or close it: oms dlq resolve {queue} --id {record} --note TEXT"
            )
        else:
            lines.append(f"  replay:  oms dlq replay {queue} --id {record}")
    return "\n".join(lines)
