"""`oms bench backoffice [--orders N] [--requests R]`: the server time of the Back Office's order
search and packages list with N orders stored (spec 12: under 100 ms each with 100,000 orders).

On a database of its own (cli/scratch.py; never the configured one) it seeds N orders of one
channel, each with one merchant order, two items and a waiting package, with the portal bench's
set-based inserts (benchmarks/portal.py), makes an operator user and calls the app in this
process (Starlette's test client: no network, so the time is the server's: middleware, session
and user check, the queries, the template). For each page: median and 95th percentile of R
requests, and the ratio of the median to that of the stylesheet (the same app stack with no
database read and no template), measured in the same run."""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.users import OPERATOR
from adapters.settings import Settings
from benchmarks.pages import timed_pages
from benchmarks.portal import TARGET_MS, _prepare
from cli.scratch import announce, scratch_services

BASELINE = "stylesheet (baseline)"


def _pages(database_url: str, newest: str) -> dict[str, str]:
    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as c:
        top = c.execute(select(func.max(t.orders.c.id))).scalar_one()
        first = c.execute(select(func.min(t.packages.c.id))).scalar_one()
        count = c.execute(select(func.count()).select_from(t.packages)).scalar_one()
    engine.dispose()
    today = datetime.now(UTC).date().isoformat()
    middle_order, middle_package = top - count // 2, first + count // 2
    number = newest.split("--")[0]
    return {
        BASELINE: "/static/web.css",
        "orders, first page": "/backoffice/orders/",
        "orders, by package number": f"/backoffice/orders/?q={newest}",
        "orders, status and channel": "/backoffice/orders/?status=approved&channel=42",
        "orders, a status none has": "/backoffice/orders/?status=cancelled",
        "orders, placed today": f"/backoffice/orders/?placed_from={today}&placed_to={today}",
        "orders, page in the middle": f"/backoffice/orders/?before={middle_order}",
        "one order with history": f"/backoffice/orders/42/{number}/",
        "packages, waiting": "/backoffice/packages/?status=waiting",
        "packages, waiting, channel": "/backoffice/packages/?status=waiting&channel=42",
        "packages, page in the middle": (
            f"/backoffice/packages/?status=waiting&after={middle_package}"
        ),
    }  # fmt: skip


def _measure(database_url: str, newest: str, requests: int) -> dict[str, list[float]]:
    pages = _pages(database_url, newest)
    return timed_pages(database_url, ("bench-op", OPERATOR, None), pages, requests)


def bench_backoffice(*, orders: int, requests: int) -> int:
    with scratch_services(Settings.from_env(), "bench") as scratch:
        announce("oms bench backoffice", scratch)
        os.environ["OMS_DATABASE_URL"] = scratch.database_url
        upgrade(scratch.database_url)
        engine = make_engine(scratch.database_url, pool_size=2)
        started = time.perf_counter()
        newest = _prepare(engine, orders, 0)
        engine.dispose()
        print(
            f"seeded {orders:,} orders (one merchant order, two items and a waiting package "
            f"each) in {time.perf_counter() - started:.1f} s; {requests} requests per page"
        )
        results = _measure(scratch.database_url, newest, requests)
    baseline = statistics.median(results[BASELINE])
    worst = 0.0
    print(f"{'page':<32} {'median ms':>10} {'p95 ms':>8} {'x base':>8}")
    for name, times in results.items():
        times.sort()
        median, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        if name != BASELINE:
            worst = max(worst, median)
        print(f"{name:<32} {median:>10.1f} {p95:>8.1f} {median / baseline:>8.1f}")
    verdict = "met" if worst < TARGET_MS else "NOT met"
    print(f"target: every page's median under {TARGET_MS:.0f} ms: {verdict} (slowest {worst:.1f})")
    return 0
