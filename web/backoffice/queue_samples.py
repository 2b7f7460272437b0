"""The queues page's chart data: each queue's depth (ready + unacked) over the last 15 minutes.

Kept by the page itself, in the API process's memory: every snapshot the page's JSON endpoint
reads (one per open queues page every 3 s) records one sample, at most one every 5 s, samples
older than 15 minutes dropped. Its cost: nothing while nobody looks at the page (no extra
process, table or broker call); at most 180 samples x 6 queues per API process. What it does
not give: history from before the page was first opened (since the process started), and each
API worker process keeps its own (a page polling one worker sees that worker's samples)."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

WINDOW_SECONDS = 15 * 60
EVERY_SECONDS = 5.0


class QueueSamples:
    def __init__(self, window: float = WINDOW_SECONDS, every: float = EVERY_SECONDS) -> None:
        self.window = window
        self.every = every
        self._samples: deque[tuple[float, dict[str, int]]] = deque()
        self._lock = threading.Lock()

    def record(self, snapshot: dict[str, Any], now: float | None = None) -> None:
        now = time.time() if now is None else now
        depths = {
            row["queue"]: int(row.get("ready") or 0) + int(row.get("unacked") or 0)
            for row in snapshot["queues"]
        }
        with self._lock:
            if not self._samples or now - self._samples[-1][0] >= self.every:
                self._samples.append((now, depths))
            while self._samples and now - self._samples[0][0] > self.window:
                self._samples.popleft()

    def series(self) -> dict[str, list[tuple[float, int]]]:
        """Per queue, its (time, depth) samples, oldest first."""
        with self._lock:
            samples = list(self._samples)
        out: dict[str, list[tuple[float, int]]] = {}
        for moment, depths in samples:
            for queue, depth in depths.items():
                out.setdefault(queue, []).append((moment, depth))
        return out


SAMPLES = QueueSamples()
