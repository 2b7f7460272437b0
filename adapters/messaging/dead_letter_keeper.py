"""The dead-letter keeper: moves every message of the pipeline's `.XQ` queues into the
`dead_letters` table (record first, ack after), so nothing is lost to RabbitMQ's 7-day TTL —
including bodies dramatiq dead-letters itself (undecodable, unknown actor), which never reach
the worker middleware. The table is then the one place to list and replay dead letters."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pika
import structlog

log = structlog.get_logger(__name__)
PIPELINE_QUEUES = (
    "oms.ingest",
    "oms.split",
    "oms.packaging",
    "oms.report",
    "oms.poll",
    "oms.merchant",
)
Record = Callable[[dict[str, Any], str, bool], None]  # (message, reason, keep_existing_reason)


def as_message(queue: str, body: bytes) -> tuple[dict[str, Any], str | None]:
    """The stored form of an XQ body, and a reason when dramatiq could not have run it."""
    try:
        message = json.loads(body)
        if isinstance(message, dict) and {"message_id", "actor_name", "args"} <= message.keys():
            message.setdefault("queue_name", queue)
            return message, None
        problem = "is JSON but not a dramatiq message (message_id, actor_name, args)"
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problem = f"is not JSON ({type(error).__name__})"
    return raw_form(queue, body), f"undecodable message: the body {problem}; never processed"


def raw_form(queue: str, body: bytes) -> dict[str, Any]:
    """A body kept as text under a digest id: listed and shown, never replayed as is."""
    digest = hashlib.sha256(body).hexdigest()[:32]
    return {
        "message_id": f"raw-{digest}",
        "queue_name": queue,
        "actor_name": "-",
        "args": [],
        "raw": body.decode("utf-8", errors="replace")[:100_000],
    }


def keep_one(queue: str, body: bytes, record: Record) -> None:
    """Record one XQ body. When its decoded form cannot be stored, its raw form is (one odd
    message never blocks the queue, nor the queues drained after it); when that fails too, the
    database is away: raise, and the message stays on the XQ for the next round."""
    message, reason = as_message(queue, body)
    fallback = reason or "dead-lettered (no reason was recorded by a worker)"
    try:
        record(message, fallback, reason is None)
    except Exception as error:
        if reason is not None:
            raise
        log.warning("dead_letters.kept_raw", queue=queue, error=type(error).__name__)
        problem = (str(error).splitlines() or [type(error).__name__])[0][:300]  # no SQL, no data
        record(
            raw_form(queue, body), f"{fallback}; kept raw, as stored it failed: {problem}", False
        )


def drain(url: str, record: Record, queues: tuple[str, ...] = PIPELINE_QUEUES) -> int:
    """Record and ack every message waiting in the queues' .XQ; returns how many moved."""
    moved = 0
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        for queue in queues:
            channel = connection.channel()
            try:
                channel.queue_declare(f"{queue}.XQ", passive=True)
            except pika.exceptions.ChannelClosedByBroker:
                continue  # never declared: nothing was dead-lettered there
            while True:
                method, _properties, body = channel.basic_get(f"{queue}.XQ", auto_ack=False)
                if method is None:
                    break
                keep_one(queue, body, record)
                channel.basic_ack(method.delivery_tag)
                moved += 1
            channel.close()
    finally:
        connection.close()
    if moved:
        log.info("dead_letters.kept", moved=moved)
    return moved
