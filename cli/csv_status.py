"""The wiring of `oms import merchant-order-status`: the database, and the outbox relay that
publishes each row's reports to Omnitron (via the report stage) right after its commit."""

from __future__ import annotations

import sys

from adapters.messaging.broker import build_broker
from adapters.messaging.outbox_relay import OutboxRelay
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.settings import Settings
from flows.csv_files import CsvFile
from flows.csv_import import import_statuses


def run_status_import(csv_file: CsvFile, *, ignore_errors: bool, start_from: int) -> int:
    settings = Settings.from_env()
    engine = make_engine(settings.database_url, pool_size=1)
    relay = None
    if not settings.embedded_broker:  # embedded: the outbox rows wait for `oms outbox sweep`
        relay = OutboxRelay(engine, build_broker(settings.broker_url, []))

    def unit_of_work() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, publisher=relay.publish_committed if relay else None)

    try:
        result = import_statuses(
            csv_file, engine, unit_of_work, print, ignore_errors=ignore_errors,
            start_from=start_from,
        )  # fmt: skip
    finally:
        if relay is not None:
            relay.flush()
            relay.broker.close()
    print(result.line)
    if result.stopped_at is not None:
        print(
            f"oms: stopped at row {result.stopped_at} (the rows before it stay applied); "
            f"fix it and resume with --start-from {result.stopped_at}, or skip it with "
            f"--start-from {result.stopped_at + 1}",
            file=sys.stderr,
        )
        return 1
    if result.failed:
        failed = ", ".join(str(n) for n in result.failed[:20])
        more = " …" if len(result.failed) > 20 else ""
        print(f"oms: {len(result.failed)} rows failed: {failed}{more}", file=sys.stderr)
        return 1
    return 0
