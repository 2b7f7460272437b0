"""`oms bench reservations --items N`: reading one offer's reservation with N merchant order
items stored (spec 9.5: under 5 ms at a million). On a database of its own (cli/scratch.py),
the rows are made on the server with `generate_series` (not through the pipeline: a million
items would take an hour), the reservations rebuilt from them, then ANALYZE, as autovacuum
keeps the statistics in production. Then it times `reservation_of` — the read `oms
reservations --offer`, the API and the pages use: the stored figure by its key, and the oldest
open order through the index of a merchant's items of one offer — for typical offers and for
one hot offer holding a tenth of a merchant's items, and the stored figure's read alone."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from statistics import median

from sqlalchemy import Engine, text

from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.reservations import rebuild
from adapters.queries.reservations import reservation_of
from adapters.settings import Settings
from cli.scratch import announce, scratch_services
from domain.merchant_oms import DEFAULT_PROCESS
from domain.model import TOTAL_NAMES
from domain.reservations import OFFER, OfferKey

ITEMS_PER_ORDER = 10
MERCHANTS = 5
OFFERS = 20_000
CHUNK = 10_000  # orders per transaction
READS = 500
ZEROS = ", ".join("0" for _ in TOTAL_NAMES)
# order j belongs to merchant j % 5; its item k sells offer (10 j + k) % 20000, except k = 9,
# which sells OFFER-HOT (a tenth of every merchant's items); item k = 0 is `new` (reserved),
# and so is one in a hundred of the hot offer's; the others are `delivered`
SEED = [
    "INSERT INTO orders (channel_id, number, status, currency, date_placed, extra, split, "
    f"received_at, {', '.join(TOTAL_NAMES)}) SELECT 42, 'BRES-' || lpad(j::text, 8, '0'), 400, "
    f"'try', :now - j * interval '1 second', '{{}}', true, :now, {ZEROS} "
    "FROM generate_series(:lo, :hi) j",
    "INSERT INTO order_items (order_id, omnitron_id, sku, name, merchant_reference, "
    "product_offer_reference, quantity, price, tax_rate, discount_amount, status, extra) "
    "SELECT o.id, j * 10 + k, 'SKU-' || k, 'N', 'MER' || lpad((j % 5)::text, 6, '0'), "
    "CASE WHEN k = 9 THEN 'OFFER-HOT' ELSE 'OFFER-' || ((j * 10 + k) % 20000) END, "
    "1 + k % 3, 100, '20', 0, 400, '{}' "
    "FROM generate_series(:lo, :hi) j CROSS JOIN generate_series(0, 9) k "
    "JOIN orders o ON o.channel_id = 42 AND o.number = 'BRES-' || lpad(j::text, 8, '0')",
    "INSERT INTO merchant_orders (order_id, channel_id, reference, merchant_reference, "
    f"created_at, {', '.join(TOTAL_NAMES)}) SELECT o.id, 42, o.number || '--MER' || "
    f"lpad((j % 5)::text, 6, '0'), 'MER' || lpad((j % 5)::text, 6, '0'), :now, {ZEROS} "
    "FROM generate_series(:lo, :hi) j "
    "JOIN orders o ON o.channel_id = 42 AND o.number = 'BRES-' || lpad(j::text, 8, '0')",
    "INSERT INTO merchant_order_items (merchant_order_id, order_item_id, reference, state, "
    "process) SELECT mo.id, oi.id, mo.reference || '--' || oi.omnitron_id, "
    "CASE WHEN oi.omnitron_id % 10 = 0 OR oi.omnitron_id % 1000 = 9 THEN 'new' "
    "ELSE 'delivered' END, :process "
    "FROM order_items oi JOIN merchant_orders mo ON mo.order_id = oi.order_id "
    "WHERE oi.omnitron_id BETWEEN :lo * 10 AND :hi * 10 + 9",
]


def _seed(engine: Engine, orders: int) -> None:
    now = datetime.now(UTC)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO channels (id, name, channel_type, created_at) "
                "VALUES (42, 'Trendyol', 'trendyol', :now)"
            ),
            {"now": now},
        )
    for lo in range(0, orders, CHUNK):
        values = {"lo": lo, "hi": min(orders, lo + CHUNK) - 1, "now": now}
        with engine.begin() as c:
            for statement in SEED:
                c.execute(text(statement), {**values, "process": DEFAULT_PROCESS})
    with engine.begin() as c:
        rebuild(c)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE")


def _timed(read: Callable[[], object], reads: int) -> tuple[float, float]:
    """Median and 99th percentile of one read, in ms."""
    times = []
    for _ in range(reads):
        start = time.perf_counter()
        read()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def bench_reservations(*, items: int, reads: int = READS) -> int:
    with scratch_services(Settings.from_env(), "bench") as scratch:
        announce("oms bench reservations", scratch)
        upgrade(scratch.database_url)
        engine = make_engine(scratch.database_url, pool_size=1)
        started = time.monotonic()
        orders = max(1, items // ITEMS_PER_ORDER)
        _seed(engine, orders)
        with engine.connect() as c:
            stored = c.execute(text("SELECT count(*) FROM merchant_order_items")).scalar_one()
            offers = c.execute(text("SELECT count(*) FROM product_offer_reservations")).scalar_one()
        print(
            f"seeded {stored} merchant order items ({orders} orders, {MERCHANTS} merchants, "
            f"{OFFERS} offers + one hot offer; a tenth reserved), {offers} reservations, "
            f"in {time.monotonic() - started:.1f} s"
        )
        picks = random.Random(7)

        def typical() -> object:
            n = picks.randrange(orders)
            key = OfferKey(f"MER{n % MERCHANTS:06d}", OFFER, f"OFFER-{(n * 10) % OFFERS}")
            found = reservation_of(engine, key)
            assert found is not None and found.oldest_order is not None
            return found

        hot = OfferKey("MER000000", OFFER, "OFFER-HOT")
        hot_items = items // ITEMS_PER_ORDER // MERCHANTS

        def figure_only() -> object:
            with engine.connect() as c:
                return c.execute(
                    text(
                        "SELECT quantity, open_items FROM product_offer_reservations "
                        "WHERE merchant_reference = :m AND kind = 'offer' AND reference = :r"
                    ),
                    {"m": hot.merchant_reference, "r": hot.reference},
                ).first()

        for label, read in (
            ("one offer, full read (figure + oldest open order)", typical),
            (
                f"hot offer ({hot_items} items, 1 % open), full read",
                lambda: reservation_of(engine, hot),
            ),
            ("stored figure alone (primary key)", figure_only),
        ):
            _timed(read, 20)  # warm: connection, statement cache
            p50, p99 = _timed(read, reads)
            print(f"{label:>52}: median {p50:.2f} ms, p99 {p99:.2f} ms ({reads} reads)")
        engine.dispose()
    return 0
