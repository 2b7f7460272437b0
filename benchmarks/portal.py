"""`oms bench portal [--merchant-orders N] [--others M] [--requests R]`: the server time of the
Merchant Portal's pages (spec 12: under 100 ms for a merchant with 10,000 merchant orders).

On a database of its own (cli/scratch.py; never the configured one) it seeds N merchant orders
of one merchant and M of other merchants (two items each, with packages, as the split writes
them) with set-based inserts, makes a merchant user, and calls the app in this process (the
ASGI app through Starlette's test client: no network, so the time is the server's: middleware,
session and user check, the queries, the template). For each page it reports the median and
95th percentile of R requests, and the ratio of the median to that of the stylesheet (the same
app stack with no database read and no template), measured in the same run."""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, text

from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.users import MERCHANT
from adapters.settings import Settings
from benchmarks.pages import timed_pages
from cli.scratch import announce, scratch_services
from domain.merchant_oms import DEFAULT_PROCESS
from domain.model import TOTAL_NAMES

MERCHANT_REF = "MER-BENCH"
TARGET_MS = 100.0
CHUNK = 20_000
ZEROS = ", ".join("0" for _ in TOTAL_NAMES)
SEED = [
    "INSERT INTO orders (channel_id, number, status, currency, date_placed, customer, "
    f"shipping_address, extra, split, received_at, {', '.join(TOTAL_NAMES)}) "
    "SELECT 42, :prefix || lpad(i::text, 7, '0'), 400, 'try', :now, "
    "json_build_object('first_name', 'Ayse', 'last_name', 'Kaya' || i, 'email', 'a@example.com'), "
    "json_build_object('city', 'Istanbul', 'line', 'Moda Cd. ' || i), '{}', true, :now, "
    f"{ZEROS} FROM generate_series(:lo, :hi) i",
    "INSERT INTO order_items (order_id, omnitron_id, sku, name, merchant_reference, quantity, "
    "price, tax_rate, discount_amount, status, extra) SELECT o.id, :base + 2 * i + k, "
    "'SKU-' || k, 'Product ' || k, :merchant, 1, 10000, '20', 0, 400, '{}' "
    "FROM generate_series(:lo, :hi) i CROSS JOIN generate_series(0, 1) k "
    "JOIN orders o ON o.channel_id = 42 AND o.number = :prefix || lpad(i::text, 7, '0')",
    "INSERT INTO merchant_orders (order_id, channel_id, reference, merchant_reference, "
    f"created_at, {', '.join(TOTAL_NAMES)}) SELECT o.id, 42, o.number || '--' || :merchant, "
    f":merchant, :now - (:hi - i) * interval '1 minute', {ZEROS} "
    "FROM generate_series(:lo, :hi) i "
    "JOIN orders o ON o.channel_id = 42 AND o.number = :prefix || lpad(i::text, 7, '0')",
    "INSERT INTO merchant_order_items (merchant_order_id, order_item_id, reference, state, "
    "process) SELECT mo.id, oi.id, mo.reference || '--' || CAST(oi.omnitron_id AS text), "
    "CASE WHEN i % 7 = 0 THEN 'canceled by merchant' ELSE 'new' END, :process "
    "FROM generate_series(:lo, :hi) i CROSS JOIN generate_series(0, 1) k "
    "JOIN order_items oi ON oi.omnitron_id = :base + 2 * i + k "
    "JOIN merchant_orders mo ON mo.order_id = oi.order_id",
    "INSERT INTO packages (merchant_order_id, order_id, channel_id, number, status, created_at, "
    "updated_at) SELECT mo.id, mo.order_id, 42, mo.reference, 100, :now, :now "
    "FROM generate_series(:lo, :hi) i JOIN merchant_orders mo ON mo.channel_id = 42 "
    "AND mo.reference = :prefix || lpad(i::text, 7, '0') || '--' || :merchant",
    "INSERT INTO package_items (package_id, order_item_id, quantity, status) "
    "SELECT p.id, oi.id, 1, 100 FROM generate_series(:lo, :hi) i "
    "CROSS JOIN generate_series(0, 1) k JOIN order_items oi ON oi.omnitron_id = :base + 2 * i + k "
    "JOIN packages p ON p.order_id = oi.order_id",
]


def _seed(engine: Engine, merchant: str, count: int) -> str:
    """`count` merchant orders of `merchant`; the reference of the newest."""
    now = datetime.now(UTC)
    tag, base = uuid.uuid4().hex[:6].upper(), random.randrange(10**11, 10**12)
    prefix = f"BPORT-{tag}-"
    for start in range(0, count, CHUNK):
        values = {
            "prefix": prefix, "base": base, "lo": start, "hi": min(count, start + CHUNK) - 1,
            "merchant": merchant, "process": DEFAULT_PROCESS, "now": now,
        }  # fmt: skip
        with engine.begin() as c:
            for statement in SEED:
                c.execute(text(statement), values)
    return f"{prefix}{count - 1:07d}--{merchant}"


def _prepare(engine: Engine, count: int, others: int) -> str:
    now = datetime.now(UTC)
    with engine.begin() as c:
        c.execute(
            insert(t.channels),
            [{"id": 42, "name": "Trendyol", "channel_type": "trendyol", "created_at": now}],
        )
        refs = [MERCHANT_REF, "MER-OTHER-1", "MER-OTHER-2"]
        c.execute(
            insert(t.merchants),
            [{"reference": r, "oms_process": DEFAULT_PROCESS, "created_at": now} for r in refs],
        )
    newest = _seed(engine, MERCHANT_REF, count)
    for index in range(2):
        _seed(engine, f"MER-OTHER-{index + 1}", others // 2)
    with engine.begin() as c:
        c.execute(text("ANALYZE"))
    return newest


def _measure(database_url: str, newest: str, requests: int) -> dict[str, list[float]]:
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    pages = {
        "stylesheet (baseline)": "/static/web.css",
        "order list": "/portal/",
        "order list, page 400": "/portal/?page=400",
        "order list, customer name": "/portal/?q=kaya9999",
        "order list, state and dates": (f"/portal/?state=canceled+by+merchant&created_from={day}"),
        "one merchant order": f"/portal/orders/{newest}/",
    }
    user = ("bench", MERCHANT, MERCHANT_REF)
    return timed_pages(database_url, user, pages, requests)


def bench_portal(*, merchant_orders: int, others: int, requests: int) -> int:
    with scratch_services(Settings.from_env(), "bench") as scratch:
        announce("oms bench portal", scratch)
        os.environ["OMS_DATABASE_URL"] = scratch.database_url
        upgrade(scratch.database_url)
        engine = make_engine(scratch.database_url, pool_size=2)
        started = time.perf_counter()
        newest = _prepare(engine, merchant_orders, others)
        engine.dispose()
        print(
            f"seeded {merchant_orders:,} merchant orders of {MERCHANT_REF} and {others:,} of "
            f"others in {time.perf_counter() - started:.1f} s; {requests} requests per page"
        )
        results = _measure(scratch.database_url, newest, requests)
    baseline = statistics.median(results["stylesheet (baseline)"])
    worst = 0.0
    print(f"{'page':<32} {'median ms':>10} {'p95 ms':>8} {'x base':>8}")
    for name, times in results.items():
        times.sort()
        median, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        if name != "stylesheet (baseline)":
            worst = max(worst, median)
        print(f"{name:<32} {median:>10.1f} {p95:>8.1f} {median / baseline:>8.1f}")
    verdict = "met" if worst < TARGET_MS else "NOT met"
    print(f"target: every page's median under {TARGET_MS:.0f} ms: {verdict} (slowest {worst:.1f})")
    return 0
