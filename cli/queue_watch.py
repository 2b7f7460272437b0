"""The screen of `oms queues` and `oms queues --watch`: fits 80 columns, hides queues that are
not declared, and, while watching, outlives the broker and the database — a failed read keeps
the last good figures on screen under a header that says what failed and when the last good read
was; management-API figures (unacked, rates) carried over from an earlier read are marked stale."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cli.table import format_rows

# column (the JSON key) -> its 80-column heading; a legend under the table names them in full
COLUMNS = {
    "queue": "queue",
    "ready": "ready",
    "unacked": "unack",
    "consumers": "cons",
    "publish_rate": "in/s",
    "deliver_rate": "out/s",
    "retry_backlog": "retry",
    "dead_letter_queue": "XQ",
    "dead_letters_recorded": "dead",
}
MANAGEMENT_ONLY = ("unacked", "publish_rate", "deliver_rate")  # AMQP cannot tell these
LEGEND = (
    "unack: delivered, not acked; in/s, out/s: publish and deliver rates; retry: waiting in .DQ; "
    "XQ: waiting in .XQ; dead: recorded dead letters neither replayed nor resolved"
)
STALE = "~"


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment).strftime("%H:%M:%S")


def _cell(value: Any, stale: bool) -> str:
    if value is None:
        return "-"
    return f"{value}{STALE}" if stale else str(value)


def render(
    data: dict[str, Any],
    *,
    width: int = 80,
    header: str | None = None,
    stale_since: float | None = None,
) -> str:
    """The table for `data` (a queue snapshot); `stale_since` marks the management-only
    figures as carried over from a read at that time."""
    shown = [r for r in data["queues"] if r.get("declared", True)]
    missing = [r["queue"] for r in data["queues"] if not r.get("declared", True)]
    rows = [list(COLUMNS.values())]
    for row in shown:
        rows.append(
            [_cell(row[key], stale_since is not None and key in MANAGEMENT_ONLY) for key in COLUMNS]
        )
    lines = [header or f"{data['broker']} — {data['source']}"]
    table = format_rows(rows, numeric=set(range(1, len(COLUMNS)))) if shown else ""
    lines += [table] if shown else ["no pipeline queue is declared yet (start the workers)"]
    if missing:
        lines.append(f"not declared yet: {', '.join(missing)}")
    if stale_since is not None:
        lines.append(
            f"{STALE} stale: unacked and rates are the management API's of {_clock(stale_since)}"
        )
    lines.append(LEGEND)
    return "\n".join(
        wrapped for line in lines for raw in line.splitlines() for wrapped in _fit(raw, width)
    )


def _fit(line: str, width: int) -> list[str]:
    return textwrap.wrap(line, width, subsequent_indent="  ") if len(line) > width else [line]


def describe(error: BaseException) -> str:
    """One line on what failed: pika's connection errors often carry no text."""
    detail = (str(error).splitlines() or [""])[0][:120]
    name = type(error).__name__
    if type(error).__module__.startswith("pika"):
        return f"broker unreachable ({name}{': ' + detail if detail else ''})"
    if type(error).__module__.startswith(("sqlalchemy", "psycopg")):
        return f"database unreachable ({name}: {detail})"
    return f"{name}: {detail}"


class Watch:
    """One screen per read. Keeps the last good snapshot and the last management-API figures
    so a failed read never clears the screen nor looks live."""

    def __init__(self, read: Callable[[], dict[str, Any]], clock: Callable[[], float] = time.time):
        self.read, self.clock = read, clock
        self.last: dict[str, Any] | None = None
        self.last_at: float | None = None
        self.management: dict[str, dict[str, Any]] = {}
        self.management_at: float | None = None

    def screen(self, width: int = 80) -> str:
        now = self.clock()
        try:
            data = self.read()
        except Exception as error:  # broker or database away: say so, keep watching
            return self._failed(error, now, width)
        self.last, self.last_at = data, now
        stale_since = None
        if data["source"].startswith("management API"):
            self.management = {r["queue"]: r for r in data["queues"]}
            self.management_at = now
        elif self.management_at is not None:  # carry the last management figures, marked
            for row in data["queues"]:
                for key in MANAGEMENT_ONLY:
                    row[key] = self.management.get(row["queue"], {}).get(key)
            stale_since = self.management_at
        header = f"{data['broker']} — {data['source']} — read at {_clock(now)}"
        return render(data, width=width, header=header, stale_since=stale_since)

    def _failed(self, error: BaseException, now: float, width: int) -> str:
        reason = describe(error)
        if self.last is None or self.last_at is None:
            first = f"UNAVAILABLE at {_clock(now)}: {reason}; no good read yet"
            return "\n".join(_fit(first, width))
        header = (
            f"UNAVAILABLE at {_clock(now)}: {reason}\n"
            f"figures below are from the last good read at {_clock(self.last_at)} "
            f"({int(now - self.last_at)} s ago), not live"
        )
        return render(self.last, width=width, header=header)
