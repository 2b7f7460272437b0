"""`oms metrics [--serve PORT]`: gauges read from the database at scrape time, in Prometheus'
text format — what the counters inside workers cannot know: packages by status, reports not yet
accepted, outbox rows not yet published, dead letters not replayed, and the poll's lag."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, func, select

from adapters.messaging.dead_letter_keeper import PIPELINE_QUEUES
from adapters.persistence import tables as t
from adapters.persistence.dead_letters import open_dead_letters
from adapters.persistence.engine import make_engine
from adapters.settings import Settings
from domain.statuses import PackageStatus


class DatabaseCollector:
    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        with self.engine.connect() as c:
            by_status: dict[int, int] = dict(
                c.execute(
                    select(t.packages.c.status, func.count()).group_by(t.packages.c.status)
                ).all()
            )
            unsent = c.execute(select(func.count()).where(t.status_reports.c.sent_at.is_(None)))
            outbox = c.execute(select(func.count()).where(t.outbox.c.published_at.is_(None)))
            last_cycle = c.execute(select(func.max(t.poll_cycles.c.started_at))).scalar()
            orders = c.execute(select(func.count()).select_from(t.orders)).scalar_one()
            unsent_count, outbox_count = unsent.scalar_one(), outbox.scalar_one()
        dead = open_dead_letters(self.engine)
        packages = GaugeMetricFamily("oms_packages", "Packages by status.", labels=["status"])
        for status in PackageStatus:  # every status, 0 when no package is in it
            packages.add_metric([status.name], by_status.pop(int(status), 0))
        for code, count in sorted(by_status.items()):  # a code without a name: its number
            packages.add_metric([str(code)], count)
        yield packages
        yield GaugeMetricFamily("oms_orders", "Orders stored.", value=orders)
        yield GaugeMetricFamily(
            "oms_reports_unsent", "Status reports not yet accepted.", value=unsent_count
        )
        yield GaugeMetricFamily(
            "oms_outbox_unpublished", "Outbox rows not yet published.", value=outbox_count
        )
        letters = GaugeMetricFamily(
            "oms_dead_letters", "Dead letters neither replayed nor resolved.", labels=["queue"]
        )
        for queue in PIPELINE_QUEUES:  # every pipeline queue, 0 when it has none
            letters.add_metric([queue], dead.pop(queue, 0))
        for queue, count in sorted(dead.items()):
            letters.add_metric([queue], count)
        yield letters
        age = time.time() - last_cycle.timestamp() if last_cycle is not None else float("nan")
        yield GaugeMetricFamily(
            "oms_poll_last_cycle_age_seconds",
            "Seconds since the last poll cycle started (lag).",
            value=age,
        )


def metrics(*, serve: int | None) -> int:
    from prometheus_client import CollectorRegistry, generate_latest, start_http_server

    registry = CollectorRegistry()
    registry.register(DatabaseCollector(make_engine(Settings.from_env().database_url, pool_size=1)))
    if serve is None:
        print(generate_latest(registry).decode(), end="")
        return 0
    start_http_server(serve, addr="127.0.0.1", registry=registry)
    print(f"metrics on http://127.0.0.1:{serve}/metrics", flush=True)
    while True:
        time.sleep(3600)
