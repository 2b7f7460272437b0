"""Log lines: tracebacks of standard-library records kept as structured JSON (issue 8, item 14);
message bodies never in a line, dramatiq's own included (item 18)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
import structlog

from adapters.logging import configure_logging
from adapters.messaging.publisher import message_for

MARKER = "marker-7f3a@example.invalid"


@pytest.fixture
def configure() -> Iterator[Callable[[str], io.StringIO]]:
    """Configures logging with the standard-library handler writing to a buffer; restores the
    configuration of the other tests afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def configured(level: str) -> io.StringIO:
        configure_logging(level)
        buffer = io.StringIO()
        root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
        return buffer

    yield configured
    root.handlers[:], root.level = handlers, level
    structlog.reset_defaults()


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_a_stdlib_traceback_is_kept_as_structured_json(
    configure: Callable[[str], io.StringIO],
) -> None:
    stderr = configure("INFO")

    def deep() -> None:
        raise RuntimeError("the cause")

    try:
        deep()
    except RuntimeError:
        logging.getLogger("dramatiq.worker.WorkerThread").error("it failed", exc_info=True)
    [line] = lines(stderr)
    assert "traceback object" not in json.dumps(line)
    [exception] = line["exception"]
    assert exception["exc_type"] == "RuntimeError" and exception["exc_value"] == "the cause"
    assert [frame["name"] for frame in exception["frames"]][-1] == "deep"
    assert all("locals" not in frame for frame in exception["frames"]), "locals hold bodies"


def test_dramatiq_lines_name_a_message_by_id_never_by_body(
    configure: Callable[[str], io.StringIO],
) -> None:
    stderr = configure("DEBUG")
    message = message_for("oms.ingest", "ingest_order", {"customer": {"email": MARKER}})
    proxy = dramatiq.broker.MessageProxy(message)
    worker_log = logging.getLogger("dramatiq.worker.WorkerThread")
    worker_log.error("Failed to process message %s with unhandled exception.", proxy)
    worker_log.debug("Received message %s with id %r.", message, message.message_id)
    logging.getLogger("dramatiq.worker.ConsumerThread").warning("Message %s was skipped.", proxy)
    written = lines(stderr)
    assert len(written) == 3
    assert all(MARKER not in json.dumps(line) for line in written)
    assert written[0]["event"] == (
        f"Failed to process message ingest_order[{message.message_id}] with unhandled exception."
    )
