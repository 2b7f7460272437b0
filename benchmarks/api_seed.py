"""`oms bench api`'s data: one two-merchant order stored and split through the domain's own use
cases (docs/examples/order-two-merchants.json), then cloned N - 1 times in SQL (PostgreSQL's
generate_series: orders, items, expenses, merchant orders and their items, packages and their
items, each clone with its own number, item ids and references), so 100,000 orders take
seconds, not the pipeline's minutes. The clone of row k of the template is the template's row
with its number `BENCH-T` replaced by `BENCH-<k>`."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from adapters.persistence.api_tokens import MERCHANT, OPERATOR, create_token
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import services
from schemas.convert import parse_inbound_order

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "BENCH-T"
MERCHANT_REFERENCE = "MER000002"
STEP = 10  # clone k's item ids: the template's + k * STEP (the template has 3 items)


@dataclass(frozen=True)
class Seeded:
    number: str  # the order the reads read (the template)
    merchant_order: str
    merchant_key: str
    operator_key: str


def _new(column: str) -> str:
    return f"replace({column}, '{TEMPLATE}', 'BENCH-' || g)"


CLONES = [
    # orders
    """INSERT INTO orders (channel_id, number, status, currency, date_placed, tracking_number,
        cargo_company, customer, shipping_address, billing_address, extra, subtotal,
        expense_total, discount_total, canceled_total, refund_total, tax_total, grand_total,
        split, received_at)
    SELECT channel_id, 'BENCH-' || g, status, currency, date_placed, tracking_number,
        cargo_company, customer, shipping_address, billing_address, extra, subtotal,
        expense_total, discount_total, canceled_total, refund_total, tax_total, grand_total,
        split, received_at
    FROM orders CROSS JOIN generate_series(1, :clones) AS g WHERE orders.id = :template""",
    # order_items, expenses
    """INSERT INTO order_items (order_id, omnitron_id, sku, name, barcode, merchant_reference,
        product_offer_reference, quantity, price, tax_rate, discount_amount, tracking_number,
        status, extra)
    SELECT o.id, i.omnitron_id + g * :step, i.sku, i.name, i.barcode, i.merchant_reference,
        i.product_offer_reference, i.quantity, i.price, i.tax_rate, i.discount_amount,
        i.tracking_number, i.status, i.extra
    FROM order_items i CROSS JOIN generate_series(1, :clones) AS g
    JOIN orders o ON o.number = 'BENCH-' || g WHERE i.order_id = :template
    ORDER BY g, i.id""",
    """INSERT INTO expenses (order_id, position, type, name, amount, tax_rate,
        merchant_reference, discount_amount, canceled, refunded)
    SELECT o.id, e.position, e.type, e.name, e.amount, e.tax_rate, e.merchant_reference,
        e.discount_amount, e.canceled, e.refunded
    FROM expenses e CROSS JOIN generate_series(1, :clones) AS g
    JOIN orders o ON o.number = 'BENCH-' || g WHERE e.order_id = :template""",
    # merchant_orders, their items
    f"""INSERT INTO merchant_orders (order_id, channel_id, reference, merchant_reference,
        subtotal, expense_total, discount_total, canceled_total, refund_total, tax_total,
        grand_total, created_at)
    SELECT o.id, m.channel_id, {_new("m.reference")}, m.merchant_reference, m.subtotal,
        m.expense_total, m.discount_total, m.canceled_total, m.refund_total, m.tax_total,
        m.grand_total, m.created_at
    FROM merchant_orders m CROSS JOIN generate_series(1, :clones) AS g
    JOIN orders o ON o.number = 'BENCH-' || g WHERE m.order_id = :template
    ORDER BY g, m.id""",
    f"""INSERT INTO merchant_order_items (merchant_order_id, order_item_id, reference, state,
        process)
    SELECT nm.id, ni.id, {_new("mi.reference")}, mi.state, mi.process
    FROM merchant_order_items mi
    JOIN merchant_orders m ON m.id = mi.merchant_order_id AND m.order_id = :template
    JOIN order_items i ON i.id = mi.order_item_id CROSS JOIN generate_series(1, :clones) AS g
    JOIN merchant_orders nm ON nm.reference = {_new("m.reference")}
    JOIN order_items ni ON ni.omnitron_id = i.omnitron_id + g * :step
    ORDER BY g, mi.id""",
    # packages, their items
    f"""INSERT INTO packages (merchant_order_id, order_id, channel_id, number, status,
        created_at, updated_at, polled_at)
    SELECT nm.id, nm.order_id, p.channel_id, {_new("p.number")}, p.status, p.created_at,
        p.updated_at, p.polled_at
    FROM packages p JOIN merchant_orders m ON m.id = p.merchant_order_id
    CROSS JOIN generate_series(1, :clones) AS g
    JOIN merchant_orders nm ON nm.reference = {_new("m.reference")}
    WHERE p.order_id = :template ORDER BY g, p.id""",
    f"""INSERT INTO package_items (package_id, order_item_id, quantity, status)
    SELECT np.id, ni.id, pi.quantity, pi.status
    FROM package_items pi JOIN packages p ON p.id = pi.package_id AND p.order_id = :template
    JOIN order_items i ON i.id = pi.order_item_id CROSS JOIN generate_series(1, :clones) AS g
    JOIN packages np ON np.number = {_new("p.number")}
    JOIN order_items ni ON ni.omnitron_id = i.omnitron_id + g * :step
    ORDER BY g, pi.id""",
]


def seed(engine: Engine, orders: int) -> Seeded:
    """`orders` orders in all (the template and its clones), and a merchant key for MER000002
    and an operator key (returned, never printed)."""
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text("utf-8"))
    body["number"] = TEMPLATE
    base = random.randrange(10**11, 10**12)
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
    ingested = services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine))
    assert ingested.order_id is not None
    services.split_order(ingested.order_id, SqlUnitOfWork(engine))
    if orders > 1:
        with engine.begin() as connection:
            for statement in CLONES:
                connection.execute(
                    text(statement),
                    {"clones": orders - 1, "template": ingested.order_id, "step": STEP},
                )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    _, merchant_key = create_token(
        engine, kind=MERCHANT, name="bench api", merchant_reference=MERCHANT_REFERENCE
    )
    _, operator_key = create_token(engine, kind=OPERATOR, name="bench api")
    return Seeded(TEMPLATE, f"{TEMPLATE}--{MERCHANT_REFERENCE}", merchant_key, operator_key)
