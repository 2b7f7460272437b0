"""The outbox relay: publishes what a committed transaction asked for, right after the commit,
and sweeps up what a crash between commit and publish left unsent. Message ids are the outbox
ids, so a message published twice is recognisably the same message downstream.

Rows are marked published in batches by a background thread (one UPDATE per batch instead of a
transaction per message). A crash can lose marks of messages that were sent; the sweeper then
sends them again, which the idempotent consumers absorb."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import structlog
from sqlalchemy import Connection, Engine, Row, Select, delete, func, select, update

from adapters.messaging.publisher import ROUTES, publish
from adapters.persistence import tables as t
from domain.messages import OutboxMessage

log = structlog.get_logger(__name__)
SWEEP_LOCK = 0x0B0C5EE9  # the advisory lock one sweeper's transaction holds while it sweeps
FAILED_ROW_PAUSE = 5.0  # seconds before a row that failed is tried again; doubles, capped
FAILED_ROW_MAX_PAUSE = 300.0
BROKER_AWAY_AFTER = 3  # failures in a row that end a sweep round
PRUNE_BATCH = 5000  # rows deleted per transaction by prune_published


def _broker_failure(error: Exception) -> bool:
    """A failure of the broker (connection, channel, refused publish) rather than of the row:
    only these count towards ending a round, so rows that can never be published (however many
    stand at the head of the outbox) never hold back the rows behind them."""
    return isinstance(error, dramatiq.errors.BrokerError | OSError) or type(
        error
    ).__module__.startswith("pika")


class PublishedMarks:
    """Collects ids of published outbox rows and marks them in one UPDATE per flush."""

    def __init__(self, engine: Engine, interval: float = 0.2):
        self.engine = engine
        self.interval = interval
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, message_ids: list[str]) -> None:
        with self._lock:
            self._pending.extend(message_ids)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-marks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    update(t.outbox)
                    .where(t.outbox.c.message_id.in_(batch))
                    .values(published_at=datetime.now(UTC))
                )
        except Exception as error:  # published but not marked: the sweeper re-sends, harmlessly
            log.warning("outbox.mark_failed", error=repr(error), count=len(batch))


class OutboxRelay:
    def __init__(self, engine: Engine, broker: dramatiq.Broker):
        self.engine = engine
        self.broker = broker
        self.marks = PublishedMarks(engine)
        self._failed: dict[str, tuple[int, float]] = {}  # message id -> (failures, retry at)

    def _send(self, message_id: str, command: str, payload: dict[str, object]) -> None:
        queue_name, actor_name = ROUTES[command]
        publish(self.broker, queue_name, actor_name, payload, message_id=message_id)

    def publish_committed(self, messages: list[OutboxMessage]) -> None:
        """After-commit hook of the unit of work. A failure here loses nothing: the rows stay
        unpublished and the sweeper sends them."""
        sent: list[str] = []
        try:
            for message in messages:
                self._send(message.message_id, message.command.name, message.command.payload())
                sent.append(message.message_id)
        except Exception as error:  # the broker is down or refused: leave it to the sweeper
            unsent = len(messages) - len(sent)
            log.warning("outbox.publish_deferred", error=repr(error), unsent=unsent)
        finally:  # a time limit (a BaseException) mid-loop: what was sent is still marked
            if sent:
                self.marks.add(sent)

    def flush(self) -> None:
        """Write pending published-marks now (tests, shutdown)."""
        self.marks.flush()

    def sweep(self, older_than: timedelta = timedelta(seconds=30), limit: int = 500) -> int:
        """Publish rows still unpublished after `older_than`; returns how many were sent.

        One sweeper at a time: a round is one transaction holding a transaction-level advisory
        lock (`pg_try_advisory_xact_lock`), so two sweepers do not send the same rows; no session
        state, so it works the same through a transaction-pooling PgBouncer (spec 13), and the
        lock cannot outlive its round (a sweeper killed mid-round releases it with its
        connection). The rows are read without row locks (the relays' marks never wait for a
        sweep), published, and the sent ones marked at the end of the round. A row that fails
        is logged and set aside with a capped backoff, and the others go on; a few failures in
        a row mean the broker is away, and the round ends."""
        cutoff = datetime.now(UTC) - older_than
        with self.engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            with connection.begin():
                if postgres and not (
                    connection.execute(select(func.pg_try_advisory_xact_lock(SWEEP_LOCK))).scalar()
                ):
                    return 0  # another sweeper is at it
                rows = connection.execute(self._due(cutoff, limit)).all()
                if postgres:  # in the round's transaction, under its lock
                    sent = self._mark(connection, self._publish_rows(rows))
            if not postgres:  # SQLite (the embedded demo): its write lock is not held meanwhile
                published = self._publish_rows(rows)
                with connection.begin():
                    sent = self._mark(connection, published)
        if sent:
            log.info("outbox.swept", published=len(sent), set_aside=len(rows) - len(sent))
        return len(sent)

    @staticmethod
    def _mark(connection: Connection, sent: list[str]) -> list[str]:
        if sent:
            connection.execute(
                update(t.outbox)
                .where(t.outbox.c.message_id.in_(sent))
                .values(published_at=datetime.now(UTC))
            )
        return sent

    def _due(self, cutoff: datetime, limit: int) -> Select[Any]:
        now = time.monotonic()
        waiting = [m for m, (_, until) in self._failed.items() if until > now]
        query = (
            select(t.outbox.c.message_id, t.outbox.c.command, t.outbox.c.payload)
            .where(t.outbox.c.published_at.is_(None), t.outbox.c.created_at < cutoff)
            .order_by(t.outbox.c.created_at)
            .limit(limit)
        )
        return query.where(t.outbox.c.message_id.not_in(waiting)) if waiting else query

    def _publish_rows(self, rows: Sequence[Row[Any]]) -> list[str]:
        sent: list[str] = []
        in_a_row = 0
        for row in rows:
            try:
                self._send(row.message_id, row.command, row.payload)
            except Exception as error:
                failures = self._failed.get(row.message_id, (0, 0.0))[0] + 1
                pause = min(FAILED_ROW_PAUSE * 2 ** (failures - 1), FAILED_ROW_MAX_PAUSE)
                self._failed[row.message_id] = (failures, time.monotonic() + pause)
                log.warning(
                    "outbox.publish_failed",
                    message_id=row.message_id,
                    command=row.command,
                    failures=failures,
                    next_try_s=pause,
                    error=repr(error)[:300],
                )
                if not _broker_failure(error):
                    continue  # this row is bad (unknown command, say): the others go on
                in_a_row += 1
                if in_a_row >= BROKER_AWAY_AFTER:
                    break  # the broker itself is away: the next round tries again
                continue
            in_a_row = 0
            self._failed.pop(row.message_id, None)
            sent.append(row.message_id)
        return sent


def prune_published(engine: Engine, older_than: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Delete outbox rows published more than `older_than` ago, oldest first, `batch` rows per
    transaction (no long lock, no long transaction); returns how many. A published row is never
    read again: the sweeper reads unpublished rows only, and reports, commands and merchant
    events keep their own history tables. Unpublished rows are never deleted, however old."""
    cutoff = datetime.now(UTC) - older_than
    deleted = 0
    while True:
        oldest = (
            select(t.outbox.c.id)
            .where(t.outbox.c.published_at < cutoff)
            .order_by(t.outbox.c.id)
            .limit(batch)
        )
        with engine.begin() as connection:
            count = connection.execute(delete(t.outbox).where(t.outbox.c.id.in_(oldest))).rowcount
        deleted += count
        if count < batch:
            return deleted
