"""`oms package command --status S [--channel ID] SLUG`: the same command for every package in a
state, through flows/package_bulk.py (the Back Office's packages page runs the same flow); this
door prints progress on a terminal and the summary (or --json)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from adapters.persistence.engine import make_engine
from adapters.settings import Settings
from flows.package_bulk import BulkRefused, BulkSummary, reason_kind, run_bulk

__all__ = ["BulkSummary", "bulk_package_command", "reason_kind"]
PROGRESS_EVERY = 100


def bulk_package_command(
    slug: str, status: int, channel_id: int | None, *, timeout: float, as_json: bool
) -> int:
    settings = Settings.from_env()
    if settings.embedded_broker:
        raise SystemExit("oms package command needs OMS_BROKER_URL to name a RabbitMQ broker")
    engine = make_engine(settings.database_url, pool_size=1)
    shown = sys.stderr.isatty() and not as_json
    try:
        summary = run_bulk(
            engine, settings.broker_url, slug, status, channel_id, timeout=timeout,
            progress=_progress if shown else None,
        )  # fmt: skip
    except BulkRefused as error:
        raise SystemExit(str(error)) from None
    finally:
        if shown:
            print(file=sys.stderr)
    if as_json:
        print(json.dumps(asdict(summary), indent=2))
    else:
        print("\n".join(summary.lines(timeout)))
    if not summary.ok:
        print(f"oms: {summary.rejected} rejected, {summary.pending} pending", file=sys.stderr)
    return 0 if summary.ok else 1


_stages: list[str] = []


def _progress(stage: str, done: int, of: int) -> None:
    """One terminal line per stage (published, then outcomes), rewritten in place."""
    if stage == "published" and done % PROGRESS_EVERY and done != of:
        return
    if _stages and _stages[-1] != stage:
        print(file=sys.stderr)
    _stages.append(stage)
    del _stages[:-1]
    print(f"\r{stage} {done}/{of}", end="", file=sys.stderr, flush=True)
