"""`oms outbox sweep [--loop]`: the sweeper for outbox rows a crash left unpublished.
`oms outbox prune [--days N]`: delete rows published more than N days ago (a daily job)."""

from __future__ import annotations

import time
from datetime import timedelta

import structlog

from adapters.logging import configure_logging

log = structlog.get_logger(__name__)


def sweep(*, loop: bool, interval: float, older_than: float = 30.0) -> int:
    configure_logging()
    from adapters.persistence.budget import check_at_start, per_process
    from workers import bootstrap

    settings = bootstrap.settings()
    check_at_start(
        settings.database_url, "oms outbox sweep", per_process("outbox", settings), settings
    )
    relay = bootstrap.relay()
    while True:
        try:
            sent = relay.sweep(older_than=timedelta(seconds=older_than))
        except Exception as error:  # database or broker away: try again next round
            log.warning("outbox.sweep_failed", error=repr(error))
            sent = 0
        if not loop:
            print(f"published {sent} outbox messages")
            return 0
        if sent == 0:
            time.sleep(interval)


def prune(*, days: float) -> int:
    configure_logging()
    from adapters.messaging.outbox_relay import prune_published
    from workers import bootstrap

    deleted = prune_published(bootstrap.engine(), timedelta(days=days))
    log.info("outbox.pruned", deleted=deleted, older_than_days=days)
    print(f"deleted {deleted} outbox rows published more than {days:g} days ago")
    return 0
