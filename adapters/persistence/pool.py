"""A connection pool that is a budget (spec 13): at most `size` connections, opened only when a
thread needs one, and closed again once idle for `idle_seconds`.

SQLAlchemy's QueuePool keeps every connection it ever opened up to `pool_size` until the process
ends, so an idle stack held what its busiest moment needed. Here the pool's size is its hard
maximum (no overflow), connections are handed out most recently used first (LIFO: under light
load the same few are used and the others age), and a daemon thread closes the ones left idle.
A closed connection's record stays in the pool and reconnects at its next checkout, with its
`info` cleared (so prepared.py's record of the statements it prepared starts afresh)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from typing import Any

from sqlalchemy.pool import QueuePool

IDLE_KEY = "oms_idle_since"


class IdleClosingPool(QueuePool):
    def __init__(self, creator: Any, *, idle_seconds: float = 10.0, **kwargs: Any) -> None:
        kwargs["max_overflow"] = 0
        kwargs["use_lifo"] = True
        super().__init__(creator, **kwargs)
        self.idle_seconds = idle_seconds
        self._reaper: threading.Thread | None = None
        self._reaper_pid = 0
        self._reaper_lock = threading.Lock()

    def recreate(self) -> IdleClosingPool:
        return self.__class__(
            self._creator,
            idle_seconds=self.idle_seconds,
            pool_size=self._pool.maxsize,
            timeout=self._timeout,
            recycle=self._recycle,
            echo=self.echo,
            logging_name=self._orig_logging_name,
            reset_on_return=self._reset_on_return,
            pre_ping=self._pre_ping,
            _dispatch=self.dispatch,
            dialect=self._dialect,
        )

    def _do_return_conn(self, record: Any) -> None:
        record.record_info[IDLE_KEY] = time.monotonic()
        super()._do_return_conn(record)
        self._start_reaper()

    def _start_reaper(self) -> None:
        """One reaper thread per pool and process (a forked child starts its own)."""
        if self.idle_seconds <= 0:
            return
        pid = os.getpid()
        if self._reaper is not None and self._reaper_pid == pid and self._reaper.is_alive():
            return
        with self._reaper_lock:
            if self._reaper is not None and self._reaper_pid == pid and self._reaper.is_alive():
                return
            self._reaper_pid = pid
            self._reaper = threading.Thread(
                target=_reap_forever,
                args=(weakref.ref(self), max(0.5, self.idle_seconds / 2)),
                name="db-idle-reaper",
                daemon=True,
            )
            self._reaper.start()

    def close_idle(self) -> int:
        """Close the connections idle for `idle_seconds` or more; returns how many. Records
        are taken out of the queue while they are looked at, so no thread can check out one
        that is being closed."""
        now = time.monotonic()
        taken: list[Any] = []
        closed = 0
        try:
            while True:
                try:
                    taken.append(self._pool.get(False))
                except Exception:  # sqlalchemy's queue Empty
                    break
            for record in taken:
                since = record.record_info.get(IDLE_KEY, now)
                if record.dbapi_connection is not None and now - since >= self.idle_seconds:
                    record.close()
                    closed += 1
        finally:
            for record in reversed(taken):  # back in the same LIFO order
                self._pool.put(record, False)
        return closed

    def open_connections(self) -> int:
        """Connections this pool holds open now (checked out or idle)."""
        queue: Any = self._pool
        with queue.mutex:
            idle = sum(1 for r in queue.queue if r.dbapi_connection is not None)
        return idle + self.checkedout()


def _reap_forever(pool_ref: weakref.ref[IdleClosingPool], every: float) -> None:
    while True:
        time.sleep(every)
        pool = pool_ref()
        if pool is None:
            return
        with contextlib.suppress(Exception):  # never let the reaper die of one bad close
            pool.close_idle()
        del pool
