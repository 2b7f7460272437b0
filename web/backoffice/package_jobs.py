"""Bulk packaging runs started from the packages page: each runs flows/package_bulk.py (the code
of `oms package command --status`) in a thread of the API process, and its page shows the
progress until the summary is there. Runs are kept in this process's memory (the last 50): with
several API processes behind a balancer, the run's page must reach the process that started it
(sticky sessions), else it answers 404 while the run goes on."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import Engine

from flows.package_bulk import BulkRefused, BulkSummary, run_bulk

KEPT = 50
TIMEOUT_SECONDS = 120.0


@dataclass
class PackageJob:
    id: str
    slug: str
    status: int
    channel_id: int | None
    timeout: float
    stage: str = "starting"
    done: int = 0
    of: int = 0
    summary: BulkSummary | None = None
    error: str | None = None
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def progress(self, stage: str, done: int, of: int) -> None:
        with self.lock:
            self.stage, self.done, self.of = stage, done, of

    def lines(self) -> list[str]:
        return self.summary.lines(self.timeout) if self.summary is not None else []


_JOBS: OrderedDict[str, PackageJob] = OrderedDict()
_LOCK = threading.Lock()


def start(
    engine: Engine,
    broker_url: str,
    slug: str,
    status: int,
    channel_id: int | None,
    package_ids: list[int] | None,
    timeout: float = TIMEOUT_SECONDS,
) -> PackageJob:
    job = PackageJob(uuid.uuid4().hex, slug, status, channel_id, timeout)
    with _LOCK:
        _JOBS[job.id] = job
        while len(_JOBS) > KEPT:
            _JOBS.popitem(last=False)

    def run() -> None:
        try:
            job.summary = run_bulk(
                engine, broker_url, slug, status, channel_id, timeout=timeout,
                package_ids=package_ids, progress=job.progress,
            )  # fmt: skip
        except BulkRefused as error:
            job.error = str(error)
        except Exception as error:  # the page says it; the thread must not die silently
            job.error = f"{type(error).__name__}: {error}"
        finally:
            job.finished = True

    threading.Thread(target=run, name=f"bulk-{job.id[:8]}", daemon=True).start()
    return job


def find(job_id: str) -> PackageJob | None:
    with _LOCK:
        return _JOBS.get(job_id)
