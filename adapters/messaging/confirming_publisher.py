"""The HTTP API's publisher: one RabbitMQ connection per process, owned by one thread.

Request handlers hand their message to the owner thread and wait for the broker's confirm.
Between messages the thread services the connection's heartbeats, so an idle API keeps a live
connection, and at shutdown it closes that connection itself, cleanly. (The former design, a
connection per handler thread that nothing serviced while idle, let RabbitMQ drop connections
after two missed heartbeats, about a minute; the next publish, and the close at shutdown, then
hit a dead socket and pika logged error lines: what a Ctrl-C on `honcho start` showed.)

A broker that is down fails fast (one connection attempt, 2 s socket timeouts): the handler
gets `BrokerUnavailable`. A message that could not start within `start_seconds` (the thread
busy with a stuck broker) is abandoned, never published later."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import dramatiq
import structlog

from adapters.messaging.publisher import BrokerUnavailable, fail_fast, message_for
from adapters.settings import redact_url

log = structlog.get_logger(__name__)

KEEPALIVE_SECONDS = 5.0  # at most; a third of the heartbeat the broker URL asks for if shorter


@dataclass
class _Job:
    message: dramatiq.Message[Any]
    error: BaseException | None = None
    started: bool = False
    abandoned: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    begun: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def begin(self) -> bool:
        """The owner thread takes the job, unless its requester gave up waiting."""
        with self.lock:
            if self.abandoned:
                return False
            self.started = True
        self.begun.set()
        return True

    def await_begin(self, timeout: float) -> bool:
        """The requester waits for the owner thread to take the job, else abandons it."""
        if self.begun.wait(timeout):
            return True
        with self.lock:
            self.abandoned = not self.started
            return self.started


class ConfirmingPublisher:
    """Publishes dramatiq messages (queues declared as the workers declare them) with publisher
    confirms. Thread-safe; the owner thread starts on the first publish."""

    def __init__(
        self, url: str, timeout: float = 2.0, *, start_seconds: float = 10.0,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> None:  # fmt: skip
        self._url = fail_fast(url, timeout)
        self._start_seconds = start_seconds
        heartbeat = _heartbeat(url)
        self._keepalive = min(keepalive_seconds, heartbeat / 3) if heartbeat else keepalive_seconds
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def publish(
        self, queue_name: str, actor_name: str, body: Any, message_id: str | None = None
    ) -> str:
        job = _Job(message_for(queue_name, actor_name, body, message_id))
        with self._lock:
            if self._closed:
                raise BrokerUnavailable("the API is shutting down")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="oms-api-publisher", daemon=True
                )
                self._thread.start()
            self._jobs.put(job)
        if not job.await_begin(self._start_seconds):
            raise BrokerUnavailable(f"no publish could start within {self._start_seconds:g} s")
        job.done.wait()
        if isinstance(job.error, dramatiq.errors.BrokerConnectionError):
            raise BrokerUnavailable(str(job.error))
        if job.error is not None:
            raise job.error
        return job.message.message_id

    def check(self) -> None:
        """Raise BrokerUnavailable unless a fresh connection to the broker opens."""
        from adapters.messaging.nodes import connect

        try:
            connect(self._url).close()
        except Exception as error:  # pika raises a family of connection errors
            raise BrokerUnavailable(redact_url(f"{type(error).__name__}: {error}")) from None

    def close(self, timeout: float = 5.0) -> None:
        """Stop the owner thread, which closes its connection; later publishes are refused."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._jobs.put(None)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        from adapters.messaging.broker import build_broker

        broker: dramatiq.Broker | None = None
        connected = False
        while True:
            try:
                job = self._jobs.get(timeout=self._keepalive)
            except queue.Empty:
                if connected and broker is not None:
                    connected = _keep_alive(broker)
                continue
            if job is None:
                break
            if not job.begin():
                continue
            try:
                # a request waits for its publish: a few seconds of retries at most (a quorum
                # queue's new leader), else 503
                broker = broker or build_broker(self._url, [], publish_retry_seconds=3.0)
                broker.enqueue(job.message)
                connected = True
            except BaseException as error:  # handed to the waiting request
                job.error = error
                connected = False
            finally:
                job.done.set()
        if broker is not None:
            broker.close()


def _heartbeat(url: str) -> float:
    """The heartbeat the connection asks for, in seconds (0: none)."""
    from adapters.messaging.broker import HEARTBEAT_SECONDS
    from adapters.messaging.nodes import first_node

    raw = dict(parse_qsl(urlsplit(first_node(url)).query)).get("heartbeat", str(HEARTBEAT_SECONDS))
    try:
        return max(0.0, float(raw))
    except ValueError:
        return float(HEARTBEAT_SECONDS)


def _keep_alive(broker: dramatiq.Broker) -> bool:
    """Let pika send and check heartbeats on the idle connection; False when it is gone (the
    broker restarted, say): the next publish opens a new one."""
    try:
        broker.connection.process_data_events(time_limit=0)  # type: ignore[attr-defined]
        return True
    except Exception as error:
        log.warning("publisher.connection_lost", error=type(error).__name__)
        del broker.connection  # type: ignore[attr-defined]
        return False
