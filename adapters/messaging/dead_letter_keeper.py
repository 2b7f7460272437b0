"""The dead-letter keeper: moves every message of the pipeline's `.XQ` queues into the
`dead_letters` table (record first, ack after), so nothing is lost to RabbitMQ's 7-day TTL —
including bodies dramatiq dead-letters itself (undecodable, unknown actor), which never reach
the worker middleware. The table is then the one place to list and replay dead letters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pika
import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from adapters.messaging import envelope
from adapters.messaging.nodes import connect

log = structlog.get_logger(__name__)
PIPELINE_QUEUES = (
    "oms.ingest",
    "oms.split",
    "oms.packaging",
    "oms.report",
    "oms.poll",
    "oms.merchant",
)
NO_REASON = "dead-lettered (no reason was recorded by a worker)"
Record = Callable[[dict[str, Any], str, bool], None]  # (message, reason, keep_existing_reason)


def as_message(queue: str, body: bytes) -> tuple[dict[str, Any], str | None]:
    """The stored form of an XQ body, and a reason when dramatiq could not have run it."""
    data, problem = envelope.decode(body)
    if problem is None:
        return envelope.stored_form(queue, body, data, None), None
    return envelope.stored_form(queue, body, data, problem), envelope.undecodable(problem)


def _database_away(error: Exception) -> bool:
    """A lost or refused connection says nothing about the body: keeping it raw then would file
    a second record when the first one's commit went through before the connection broke."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def keep_one(queue: str, body: bytes, record: Record) -> None:
    """Record one XQ body. The worker's (or its consumer's) record, when there is one, keeps
    its reason. When the decoded form cannot be stored, the raw form is (one odd message never
    blocks the queue, nor the queues drained after it); when that fails too, the database is
    away: raise, and the message stays on the XQ for the next round."""
    message, reason = as_message(queue, body)
    fallback = reason or NO_REASON
    try:
        record(message, fallback, True)
    except Exception as error:
        if reason is not None or _database_away(error):
            raise  # stays on the XQ: the next round records it as it is
        log.warning("dead_letters.kept_raw", queue=queue, error=type(error).__name__)
        problem = (str(error).splitlines() or [type(error).__name__])[0][:300]  # no SQL, no data
        raw = envelope.stored_form(queue, body, None, "raw")
        record(raw, f"{fallback}; kept raw, as stored it failed: {problem}", False)


def drain(url: str, record: Record, queues: tuple[str, ...] = PIPELINE_QUEUES) -> int:
    """Record and ack every message waiting in the queues' .XQ; returns how many moved."""
    moved = 0
    connection = connect(url)
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
