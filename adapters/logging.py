"""structlog JSON logs, one object a line, with the message id and order number bound by the
worker middleware. Values under secret-looking keys and passwords in URLs are masked; tracebacks
are structured JSON without frame locals (they hold bodies); dramatiq's own lines name a message
as actor[message id], never by its arguments (customer personal data)."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from dramatiq.broker import MessageProxy
from dramatiq.message import Message
from structlog.processors import ExceptionRenderer
from structlog.tracebacks import ExceptionDictTransformer

_SECRET_KEYS = re.compile(r"pass|secret|token|authorization|api_key|credential", re.I)
_URL_PASSWORD = re.compile(r"(//[^/:@\s]*:)[^@/\s]*@")


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if _SECRET_KEYS.search(key):
            event[key] = "***"
        elif isinstance(value, str) and "@" in value:
            event[key] = _URL_PASSWORD.sub(r"\1***@", value)
    return event


def _named(value: Any) -> Any:
    if isinstance(value, Message | MessageProxy):
        return f"{value.actor_name}[{value.message_id}]"
    return value


class HideMessageBodies(logging.Filter):
    """dramatiq formats messages with %s, which renders every argument: the whole order."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_named(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _named(value) for key, value in record.args.items()}
        return True


# show_locals=False: the locals of a failing actor frame are the message body
_tracebacks = ExceptionRenderer(ExceptionDictTransformer(show_locals=False))


class _Sink:
    """Where the JSON lines go, looked up at each write: standard error, or the file named by
    OMS_LOG_FILE when it is set (`oms demo` keeps its terminal free of logs that way). Loggers
    cached before a reconfiguration follow it."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.file: TextIO | None = None

    def target(self, path: str | None) -> None:
        if path == self.path:
            return
        if self.file is not None:
            self.file.close()
        self.path = path
        self.file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115

    def write(self, text: str) -> int:
        return (self.file or sys.stderr).write(text)

    def flush(self) -> None:
        (self.file or sys.stderr).flush()


_sink = _Sink()


def configure_logging(level: str | None = None, *, final: bool = False) -> None:
    """`final`: this process configures logging once and for all (an `oms api` worker): each
    logger is then built on its first use and kept, instead of at every call — a bind per
    call was a twentieth of a merchant order read's Python, access log included (issue 22)."""
    level_name = (level or os.environ.get("OMS_LOG_LEVEL", "INFO")).upper()
    _sink.target(os.environ.get("OMS_LOG_FILE") or None)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    structlog.configure(
        processors=[
            *shared,
            _tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level_name)),
        # one write per record (print writes the newline apart: a stdlib record from another
        # thread could land between a line and its newline, two records on one line)
        logger_factory=structlog.WriteLoggerFactory(_sink),  # type: ignore[arg-type]
        # not cached unless final: a logger first used under one configuration (an in-process
        # command, a test) follows a later one; the cost is a bind per log call
        cache_logger_on_first_use=final,
    )
    # dramatiq, pika and alembic log through the standard library: render them as JSON too.
    handler = logging.StreamHandler(_sink)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _tracebacks,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    handler.addFilter(HideMessageBodies())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name)
    # pika warns about every passive declare of a missing queue; its connection losses are errors
    logging.getLogger("pika").setLevel(max(logging.ERROR, root.level))
