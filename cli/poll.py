"""`oms scheduler` (run exactly one; a second one is harmless) and `oms poll on|off|status|run`."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import structlog

from adapters.logging import configure_logging
from domain import poll_service

log = structlog.get_logger(__name__)


def scheduler(*, once: bool) -> int:
    """Tick every POLL_INTERVAL_SECONDS, at the start of each time bucket. The flag is read from
    the database at every tick (`oms poll on|off`), falling back to the environment variable."""
    configure_logging()
    from adapters.persistence.budget import check_at_start, per_process
    from workers import bootstrap

    settings = bootstrap.settings()
    need = per_process("scheduler", settings)
    check_at_start(settings.database_url, "oms scheduler", need, settings)
    interval = settings.poll_interval_seconds  # >= 1: Settings checked it
    log.info("scheduler.started", interval_s=interval)
    was_on: bool | None = None
    while True:
        try:
            default = settings.auto_run_ship_the_package_command
            is_on = poll_service.auto_run(bootstrap.unit_of_work(), default)
            if is_on != was_on:  # say it when it changes, not at every tick
                log.info("scheduler.polling_on" if is_on else "scheduler.polling_off")
                was_on = is_on
            if is_on:
                cycle = poll_service.tick(
                    datetime.now(UTC), interval, bootstrap.unit_of_work(), default
                )
                if cycle is not None:
                    log.info("scheduler.cycle_started", cycle=cycle)
        except Exception as error:  # database or broker away: the next tick tries again
            log.warning("scheduler.tick_failed", error=repr(error))
        if once:
            return 0
        time.sleep(interval - time.time() % interval + 0.05)


def poll_flag(action: str) -> int:
    from workers import bootstrap

    settings, uow = bootstrap.settings(), bootstrap.unit_of_work
    if action in ("on", "off"):
        poll_service.set_auto_run(action == "on", uow())
    enabled = poll_service.auto_run(uow(), settings.auto_run_ship_the_package_command)
    print(f"AUTO_RUN_SHIP_THE_PACKAGE_COMMAND is {'on' if enabled else 'off'}")
    return 0


def poll_now() -> int:
    """Start a cycle now, whatever the flag and the interval (operators, tests)."""
    from workers import bootstrap

    cycle = int(time.time())  # same scale as the scheduler's cycles (epoch seconds)
    poll_service.open_cycle_now(cycle, bootstrap.unit_of_work())
    bootstrap.relay().flush()
    print(f"poll cycle {cycle} started")
    return 0
