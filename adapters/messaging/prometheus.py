"""A worker group's Prometheus metrics, in place of dramatiq's own middleware: the same
`dramatiq_*` counters, the message duration in seconds (`promtool check metrics` refuses
dramatiq's `…_milliseconds`), every actor's series at 0 from boot (an idle worker's port does
not answer empty), and `oms_worker_processes`, the live worker processes of the group.

`oms worker --metrics-port P` binds the port before dramatiq starts (P, else the next free one:
every group of a scaled stage gets its own) and hands the socket down as OMS_METRICS_FD; the
group's worker processes write into OMS_METRICS_DIR, which the exposition fork serves and
removes when it stops."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import Middleware

DIR_ENV, FD_ENV = "OMS_METRICS_DIR", "OMS_METRICS_FD"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
LABELS = ["queue_name", "actor_name"]


class StageMetrics(Middleware):
    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.delayed: set[str] = set()
        self.metrics: dict[str, Any] = {}

    @property
    def forks(self) -> list[Any]:
        return [serve_metrics]

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[DIR_ENV]
        import prometheus_client as prom  # after the variable is set: multiprocess mode

        registry = prom.CollectorRegistry()

        def counter(name: str, help: str) -> Any:
            return prom.Counter(name, help, LABELS, registry=registry)

        self.metrics = {
            "total": counter("dramatiq_messages", "Messages processed."),
            "errors": counter("dramatiq_message_errors", "Messages whose actor raised."),
            "retries": counter("dramatiq_message_retries", "Messages retried."),
            "rejects": counter("dramatiq_message_rejects", "Messages dead-lettered."),
            "inprogress": prom.Gauge(
                "dramatiq_messages_inprogress", "Messages in progress.", LABELS,
                registry=registry, multiprocess_mode="livesum",
            ),
            "delayed": prom.Gauge(
                "dramatiq_delayed_messages_inprogress", "Delayed messages held in memory.",
                LABELS, registry=registry, multiprocess_mode="livesum",
            ),
            "duration": prom.Histogram(
                "dramatiq_message_duration_seconds", "Time spent processing a message.",
                LABELS, buckets=BUCKETS, registry=registry,
            ),
        }  # fmt: skip
        processes = prom.Gauge(
            "oms_worker_processes", "Live worker processes of this group.",
            registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        processes.set(1)
        for name in broker.get_declared_actors():  # every series exists at 0 from boot
            actor = broker.get_actor(name)
            for metric in self.metrics.values():
                metric.labels(actor.queue_name, actor.actor_name)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())

    def _labels(self, message: Any) -> tuple[str, str]:
        return message.queue_name, message.actor_name

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        self.metrics["rejects"].labels(*self._labels(message)).inc()

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: Any) -> None:
        if "retries" in message.options:
            self.metrics["retries"].labels(*self._labels(message)).inc()

    def before_delay_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self.delayed.add(message.message_id)
        self.metrics["delayed"].labels(*self._labels(message)).inc()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        labels = self._labels(message)
        if message.message_id in self.delayed:
            self.delayed.discard(message.message_id)
            self.metrics["delayed"].labels(*labels).dec()
        self.metrics["inprogress"].labels(*labels).inc()
        self.started[message.message_id] = time.monotonic()

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        labels = self._labels(message)
        started = self.started.pop(message.message_id, time.monotonic())
        self.metrics["duration"].labels(*labels).observe(time.monotonic() - started)
        self.metrics["inprogress"].labels(*labels).dec()
        self.metrics["total"].labels(*labels).inc()
        if exception is not None:
            self.metrics["errors"].labels(*labels).inc()

    after_skip_message = after_process_message


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        import prometheus_client as prom
        from prometheus_client import multiprocess

        registry = prom.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=os.environ[DIR_ENV])
        body = prom.generate_latest(registry)
        self.send_response(200)
        self.send_header("Content-Type", prom.CONTENT_TYPE_LATEST)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass  # one line per scrape is noise


class _Server(HTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A scrape that failed (mostly: the scraper gave up and closed the connection) is one
        JSON log line, not socketserver's plain-text traceback in the middle of the JSON log."""
        error = sys.exc_info()[1]
        structlog.get_logger(__name__).warning(
            "metrics.scrape_failed", client=str(client_address[0]), error=repr(error)[:300]
        )


def serve_metrics() -> int:
    """The exposition fork: serves the group's directory on the socket `oms worker` bound, and
    removes the directory when the group stops (SIGTERM ends serve_forever with SystemExit)."""
    listener = socket.socket(fileno=int(os.environ[FD_ENV]))
    server = _Server(listener.getsockname()[:2], _Handler, bind_and_activate=False)
    server.socket = listener
    try:
        server.serve_forever()
    finally:
        shutil.rmtree(os.environ[DIR_ENV], ignore_errors=True)
    return 0
