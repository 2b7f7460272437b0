"""CPU seconds spent by each party of a benchmark phase, read from /proc on this host: the
worker processes (one process group), this database's PostgreSQL backends, the RabbitMQ
server and the bench process itself. On a shared machine wall-clock figures move with the
other load; CPU seconds per message move much less, so the benches print both."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int | str) -> list[str] | None:
    try:  # the fields after the command's closing parenthesis: state is [0], pgrp [2]
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _seconds(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def group_cpu(group: int) -> dict[int, float]:
    """CPU seconds of the live processes of process group `group`, by pid."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(entry)
            if fields is not None and int(fields[2]) == group:
                out[int(entry)] = _seconds(fields)
    return out


def backend_cpu(engine: Engine) -> dict[int, float]:
    """CPU seconds of this database's PostgreSQL backends (on this host), by pid."""
    with engine.connect() as c:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        found = list(c.execute(text(query)).scalars())
    out = {}
    for pid in found:
        fields = _stat(pid)
        if fields is not None:
            out[pid] = _seconds(fields)
    return out


def broker_cpu() -> dict[int, float]:
    """CPU seconds of the RabbitMQ server (the Erlang VM), if it runs on this host."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"beam" in command and b"rabbit" in command:
                fields = _stat(entry)
                if fields is not None:
                    out[int(entry)] = _seconds(fields)
    return out


def _grown(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


@dataclass
class Usage:
    workers: float
    database: float
    broker: float
    bench: float

    def per_message(self, count: int) -> str:
        total = self.workers + self.database + self.broker + self.bench
        parts = [
            ("workers", self.workers),
            ("PostgreSQL", self.database),
            ("RabbitMQ", self.broker),
            ("bench", self.bench),
        ]
        shown = ", ".join(f"{name} {1000 * v / count:.2f}" for name, v in parts)
        return f"cpu ms per order: {shown} = {1000 * total / count:.2f}"


class Meter:
    """Start before the phase's messages are published, stop when the last one is done.
    Processes that end in between are not counted (the workers live through the phase)."""

    def __init__(self, workers_group: int, engine: Engine | None):
        self.workers_group = workers_group
        self.engine = engine
        self.workers = group_cpu(workers_group)
        self.database = backend_cpu(engine) if engine is not None else {}
        self.broker = broker_cpu()
        self.bench = time.process_time()

    def stop(self) -> Usage:
        return Usage(
            workers=_grown(self.workers, group_cpu(self.workers_group)),
            database=_grown(self.database, backend_cpu(self.engine)) if self.engine else 0.0,
            broker=_grown(self.broker, broker_cpu()),
            bench=time.process_time() - self.bench,
        )
