"""`/healthz`'s state: the database's and the broker's last verdicts, refreshed by a background
thread every `REFRESH_SECONDS` once the first probe asked (each uvicorn worker process keeps its
own). A probe is answered from it, never with a database and broker round trip of its own;
the answer is at most `REFRESH_SECONDS` plus one check's time old (a check gives up after
about 2 s). The first probe of a process waits for the first check."""

from __future__ import annotations

import threading
from collections.abc import Callable

REFRESH_SECONDS = 2.0

Checks = dict[str, str]


class HealthState:
    def __init__(self, check: Callable[[], Checks], interval: float = REFRESH_SECONDS) -> None:
        self._check = check
        self._interval = interval
        self._checks: Checks | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def latest(self) -> Checks | None:
        """The last verdicts, or None before the first check."""
        return self._checks

    def first(self) -> Checks:
        """The verdicts, checking now if none was made yet (then refreshing in the background)."""
        with self._lock:
            checks = self._checks
            if checks is None:
                checks = self._checks = self._check()
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(
                    target=self._refresh, name="oms-api-health", daemon=True
                )
                self._thread.start()
            return checks

    def _refresh(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._checks = self._check()
            except Exception:  # an unforeseen failure: the next probe checks for itself
                self._checks = None

    def stop(self) -> None:
        self._stopped.set()
