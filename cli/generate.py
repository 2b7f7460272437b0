"""Generated inbound orders (valid by construction, with the `amount` Omnitron would send) for the
demo, the benchmark and the tests."""

from __future__ import annotations

import random
from typing import Any

from domain.money import format_minor_units
from domain.totals import totals_of
from schemas.convert import parse_inbound_order

CHANNELS = [
    (42, "Trendyol", "trendyol"),
    (43, "Hepsiburada", "hepsiburada"),
    (44, "Amazon TR", "amazon"),
    (45, "n11", "n11"),
    (46, "Ciceksepeti", "ciceksepeti"),
    (47, "Pazarama", "pazarama"),
    (50, "Web store", "web"),
]
MERCHANTS = ["MER000002", "MER000005", "MER000007", "MER000011", None]
RATES = ["0", "1", "10", "20", "8.5"]


def generate_orders(
    count: int, *, prefix: str = "GEN", seed: int = 7, first_item_id: int = 10_000_000
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    item_id = first_item_id
    orders = []
    for n in range(count):
        channel_id, channel_name, channel_type = rng.choice(CHANNELS)
        merchants = rng.sample(MERCHANTS, rng.randint(1, 3))
        items = []
        for _ in range(rng.randint(1, 4)):
            quantity = rng.randint(1, 3)
            price = rng.randint(100, 250_000)
            item = {
                "id": item_id,
                "product": {"sku": f"SKU-{rng.randint(1, 9999):04d}", "name": "Generated product"},
                "merchant_reference": rng.choice(merchants),
                "quantity": quantity,
                "price": format_minor_units(price, "try"),
                "tax_rate": rng.choice(RATES),
                "discount_amount": format_minor_units(
                    rng.choice([0, 0, rng.randint(0, price * quantity)]), "try"
                ),
            }
            item_id += 1
            items.append(item)
        named = sorted({str(i["merchant_reference"]) for i in items if i["merchant_reference"]})
        body: dict[str, Any] = {
            "number": f"{prefix}-{n + 1:06d}",
            "channel": {"id": channel_id, "name": channel_name, "channel_type": channel_type},
            "status": "400",
            "date_placed": "2026-11-21T09:30:00+03:00",
            "currency": "try",
            "shipping_amount": format_minor_units(rng.choice([0, 500, 999]), "try"),
            "shipping_tax_rate": "20",
            "tracking_number": f"TRK{rng.randint(10**8, 10**9 - 1)}",
            "cargo_company": {"id": 1, "name": "Trendyol Express", "erp_code": "trendyol-express"},
            "items": items,
            "expenses": [
                {
                    "type": "shipping",
                    "name": f"{m} shipping",
                    "tax_rate": "20",
                    "amount": format_minor_units(rng.randint(0, 2_000), "try"),
                    "merchant_reference": m,
                }
                for m in named
                if rng.random() < 0.5
            ],
        }
        order = parse_inbound_order(body, "MAIN")
        body["amount"] = format_minor_units(
            totals_of(order.items, order.expenses).grand_total, "try"
        )
        orders.append(body)
    return orders
