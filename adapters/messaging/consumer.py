"""dramatiq's RabbitMQ consumer, guarded. Envelopes on public queues are upstream input: one that
is not a message this worker can run (not JSON, a field of the wrong type, an unknown actor, an
eta beyond the cap) is dead-lettered here with its reason, before dramatiq's consumer thread can
choke on it, and the queue goes on. And a message whose retry could not be stored is put back
(nack with requeue) instead of acked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pika
import structlog
from dramatiq.brokers.rabbitmq import (
    DEAD_MESSAGE_TTL,
    RabbitmqBroker,
    _RabbitmqConsumer,
    _RabbitmqMessage,
)
from dramatiq.common import current_millis, q_name, xq_name
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

from adapters.messaging import envelope
from adapters.messaging.nodes import (
    DEFAULT_DELIVERY_LIMIT,
    dead_letter_queue_arguments,
    work_queue_arguments,
)

log = structlog.get_logger(__name__)
RecordRejected = Callable[[dict[str, Any], str], None]
REQUEUE = "oms_requeue"  # set on a message proxy: nack it with requeue instead of acking it
_AMQP = (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError)


def requeue_instead_of_ack(message: Any) -> None:
    setattr(message, REQUEUE, True)


class GuardedRabbitmqBroker(RabbitmqBroker):
    def __init__(
        self, *, record_rejected: RecordRejected | None, max_eta_ahead_ms: int,
        queue_type: str = "classic", delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
        publish_retry_seconds: float = 0.0, **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.publish_retry_seconds = publish_retry_seconds
        self.record_rejected = record_rejected
        self.max_eta_ahead_ms = max_eta_ahead_ms
        self.queue_type = queue_type
        self.delivery_limit = delivery_limit

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        """dramatiq's enqueue (six attempts, each on a new connection: the next node of the
        list when the node went away). When the broker nacked them (while a quorum queue elects
        a new leader after its node died, a few seconds, it nacks publishes and six quick
        attempts all fall in that window), tried again for up to `publish_retry_seconds` with
        a growing pause. Quorum queues only (a classic queue nacks for good reasons). A
        broker that cannot be reached at all is not waited for here (the six attempts already
        went through every node). A publish that was nacked and sent
        again is at worst a duplicate, which the idempotent consumers absorb."""
        deadline = time.monotonic() + self.publish_retry_seconds
        pause = 0.25
        while True:
            try:
                return super().enqueue(message, delay=delay)
            except ConnectionClosed as error:
                # quorum queues only: a classic queue nacks for good reasons (a length limit
                # with reject-publish), and its publisher must hear it at once
                nacked = isinstance(error.message, pika.exceptions.NackError)
                quorum = self.queue_type == "quorum"
                if not (nacked and quorum) or time.monotonic() + pause > deadline:
                    raise
                log.warning("publish.retrying", error=str(error)[:200], pause_s=pause)
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _build_queue_arguments(self, queue_name: str) -> dict[str, Any]:
        """`q` and `q.DQ`: dramatiq's arguments, quorum ones with OMS_QUEUE_TYPE=quorum."""
        return work_queue_arguments(xq_name(queue_name), self.queue_type, self.delivery_limit)

    def _declare_xq_queue(self, queue_name: str) -> Any:
        return self.channel.queue_declare(
            queue=xq_name(queue_name),
            durable=True,
            arguments=dead_letter_queue_arguments(DEAD_MESSAGE_TTL, self.queue_type),
        )

    @property
    def consumer_class(self) -> type[_RabbitmqConsumer]:
        return GuardedConsumer


class GuardedConsumer(_RabbitmqConsumer):
    """Acks are sent in runs (`_queue_ack`): dramatiq sends each from a callback of its own
    that writes one frame and then polls the socket until it is written (a sixth of a worker's
    CPU in the ingest profile). Each ack stays its own frame for its own delivery tag, never
    `multiple`, which would also ack deliveries still being processed; only the flush is
    shared."""

    broker: GuardedRabbitmqBroker

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acks: list[int] = []
        self._acks_lock = threading.Lock()

    def __next__(self) -> _RabbitmqMessage | None:
        try:
            method, _properties, body = next(self.iterator)
            if method is None:
                return None
        except (AssertionError, *_AMQP) as error:
            if getattr(error, "reply_code", None) == 404:  # re-declared when it restarts
                self.broker.queues_pending.add(q_name(self.queue_name))
            raise ConnectionClosed(error) from None
        data, problem = envelope.decode(body)
        if problem is not None:
            self._reject(method.delivery_tag, body, data, problem, envelope.undecodable(problem))
            return None
        refused = self._refusal(data)
        if refused is not None:
            self._reject(method.delivery_tag, body, data, None, f"{refused}; never processed")
            return None
        data["args"] = tuple(data["args"])
        message = _RabbitmqMessage(method.redelivered, method.delivery_tag, Message(**data))
        self.known_tags.add(method.delivery_tag)
        return message

    def _queue_ack(self, message: Any) -> None:
        """(A worker thread, after its message's commit.) Queue the ack; the first ack of a run
        asks the consumer's thread to send the run."""
        try:
            self.known_tags.remove(message._tag)
        except KeyError:  # a delivery of a connection since closed: it will come again
            log.warning("message.ack_unknown_tag", message_id=message.message_id)
            return
        with self._acks_lock:
            self._acks.append(message._tag)
            if len(self._acks) > 1:  # a run is already asked for and not yet sent
                return
        try:
            self.connection.add_callback_threadsafe(self._send_acks)
        except _AMQP as error:
            with self._acks_lock:  # the connection is gone, its unacked deliveries come again
                self._acks.clear()
            raise ConnectionClosed(error) from None

    def _send_acks(self) -> None:
        """(The consumer's thread.) Every ack queued since the last run: all written, then
        flushed once (BlockingChannel.basic_ack flushes; its `_impl` is pika's channel that
        only writes)."""
        with self._acks_lock:
            tags, self._acks = self._acks, []
        if not tags:
            return
        for tag in tags[:-1]:
            self.channel._impl.basic_ack(delivery_tag=tag)
        self.channel.basic_ack(tags[-1])

    def _refusal(self, data: dict[str, Any]) -> str | None:
        if data["queue_name"] != self.queue_name:
            return f"queue_name {data['queue_name'][:100]!r} is not the queue it came from"
        if data["actor_name"] not in self.broker.actors:
            queue = q_name(self.queue_name)
            return f"no actor named {data['actor_name'][:100]!r} on queue {queue!r}"
        return envelope.eta_problem(data["options"], current_millis(), self.broker.max_eta_ahead_ms)

    def _reject(self, tag: int, body: bytes, data: Any, problem: str | None, reason: str) -> None:
        """Record the reason, then dead-letter. Should the record fail, the dead-letter keeper
        still files the body from the .XQ (an undecodable one with this same reason)."""
        queue = q_name(self.queue_name)
        stored = envelope.stored_form(queue, body, data, problem)
        log.error("message.rejected", message_id=stored["message_id"], queue=queue, reason=reason)
        if self.broker.record_rejected is not None:
            try:
                self.broker.record_rejected(stored, reason)
            except Exception as error:
                log.error("message.rejected_not_recorded", error=type(error).__name__)
        self._nack(tag)

    def ack(self, message: Any) -> None:
        if not getattr(message, REQUEUE, False):
            self._queue_ack(message)
            return
        try:
            self.known_tags.remove(message._tag)
            self.connection.add_callback_threadsafe(
                partial(self.channel.basic_nack, message._tag, requeue=True)
            )
        except _AMQP as error:
            raise ConnectionClosed(error) from None
        except KeyError:
            log.warning("message.requeue_unknown_tag", message_id=message.message_id)
