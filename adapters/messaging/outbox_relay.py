"""The outbox relay: publishes what a committed transaction asked for, right after the commit,
and sweeps up what a crash between commit and publish left unsent. Message ids are the outbox
ids, so a message published twice is recognisably the same message downstream.

Rows are marked published in batches by a background thread (one UPDATE per batch instead of a
transaction per message). A crash can lose marks of messages that were sent; the sweeper then
sends them again, which the idempotent consumers absorb."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import dramatiq
import structlog
from sqlalchemy import Engine, select, update

from adapters.messaging.publisher import ROUTES, publish
from adapters.persistence import tables as t
from domain.messages import OutboxMessage

log = structlog.get_logger(__name__)


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

    def _send(self, message_id: str, command: str, payload: dict[str, object]) -> None:
        queue_name, actor_name = ROUTES[command]
        publish(self.broker, queue_name, actor_name, payload, message_id=message_id)

    def publish_committed(self, messages: list[OutboxMessage]) -> None:
        """After-commit hook of the unit of work. A failure here loses nothing: the rows stay
        unpublished and the sweeper sends them."""
        sent = []
        try:
            for message in messages:
                self._send(message.message_id, message.command.name, message.command.payload())
                sent.append(message.message_id)
        except Exception as error:  # the broker is down or refused: leave it to the sweeper
            unsent = len(messages) - len(sent)
            log.warning("outbox.publish_deferred", error=repr(error), unsent=unsent)
        if sent:
            self.marks.add(sent)

    def flush(self) -> None:
        """Write pending published-marks now (tests, shutdown)."""
        self.marks.flush()

    def sweep(self, older_than: timedelta = timedelta(seconds=30), limit: int = 500) -> int:
        """Publish rows still unpublished after `older_than`; returns how many were sent."""
        cutoff = datetime.now(UTC) - older_than
        with self.engine.begin() as connection:
            query = (
                select(t.outbox.c.message_id, t.outbox.c.command, t.outbox.c.payload)
                .where(t.outbox.c.published_at.is_(None), t.outbox.c.created_at < cutoff)
                .order_by(t.outbox.c.created_at)
                .limit(limit)
            )
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = connection.execute(query).all()
            for row in rows:
                self._send(row.message_id, row.command, row.payload)
            if rows:
                connection.execute(
                    update(t.outbox)
                    .where(t.outbox.c.message_id.in_([r.message_id for r in rows]))
                    .values(published_at=datetime.now(UTC))
                )
        if rows:
            log.info("outbox.swept", published=len(rows))
        return len(rows)
