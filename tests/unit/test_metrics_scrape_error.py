"""A failed scrape (the scraper gave up and closed the connection) is one structured log line,
not socketserver's plain-text traceback in a worker's JSON log."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from adapters.messaging.prometheus import _Server


def test_a_failed_scrape_is_a_log_event_not_a_printed_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = _Server(("127.0.0.1", 0), object, bind_and_activate=False)  # type: ignore[arg-type]
    try:
        with capture_logs() as events:
            try:
                raise BrokenPipeError(32, "Broken pipe")
            except BrokenPipeError:
                server.handle_error(None, ("127.0.0.1", 50000))
    finally:
        server.server_close()
    assert [e["event"] for e in events] == ["metrics.scrape_failed"]
    assert "Broken pipe" in events[0]["error"]
    printed = capsys.readouterr()
    assert "-----" not in printed.err and "Traceback" not in printed.err
