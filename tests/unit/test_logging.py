"""Log lines: tracebacks of standard-library records kept as structured JSON (issue 8, item 14);
message bodies never in a line, dramatiq's own included (item 18)."""

from __future__ import annotations

import json
import logging
from typing import Any

import dramatiq
import pytest

from adapters.logging import configure_logging
from adapters.messaging.publisher import message_for

MARKER = "marker-7f3a@example.invalid"


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_stdlib_traceback_is_kept_as_structured_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")

    def deep() -> None:
        raise RuntimeError("the cause")

    try:
        deep()
    except RuntimeError:
        logging.getLogger("dramatiq.worker.WorkerThread").error("it failed", exc_info=True)
    [line] = lines(capsys)
    assert "traceback object" not in json.dumps(line)
    [exception] = line["exception"]
    assert exception["exc_type"] == "RuntimeError" and exception["exc_value"] == "the cause"
    assert [frame["name"] for frame in exception["frames"]][-1] == "deep"
    assert all("locals" not in frame for frame in exception["frames"]), "locals hold bodies"


def test_dramatiq_lines_name_a_message_by_id_never_by_body(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG")
    message = message_for("oms.ingest", "ingest_order", {"customer": {"email": MARKER}})
    proxy = dramatiq.broker.MessageProxy(message)
    worker_log = logging.getLogger("dramatiq.worker.WorkerThread")
    worker_log.error("Failed to process message %s with unhandled exception.", proxy)
    worker_log.debug("Received message %s with id %r.", message, message.message_id)
    logging.getLogger("dramatiq.worker.ConsumerThread").warning("Message %s was skipped.", proxy)
    written = lines(capsys)
    assert len(written) == 3
    assert all(MARKER not in json.dumps(line) for line in written)
    assert written[0]["event"] == (
        f"Failed to process message ingest_order[{message.message_id}] with unhandled exception."
    )
