"""The merchant order export on a real database (spec 10.3): three files per merchant with the
required columns, a merchant's files hold its rows only, filters, and 2,000 merchant orders
streamed to files (the files and the memory peak checked, not the time)."""

from __future__ import annotations

import csv
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.merchant_export import (
    EXPENSE_COLUMNS,
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    ExportFilter,
)
from domain.merchant_events import MerchantEvent, trigger_merchant_event
from flows.csv_export import FILES, ExportReport, Progress, export_merchant_orders
from tests.integration.csv_support import item_ref, store, two_merchant_order

NAMES = [name for name, _, _ in FILES]


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def rows_per_merchant(report: ExportReport) -> dict[str, dict[str, int]]:
    return {merchant: files.rows for merchant, files in report.merchants.items()}


def fresh_merchants() -> dict[str, str]:
    tag = uuid.uuid4().hex[:6].upper()
    return {"MER000002": f"A{tag}", "MER000005": f"B{tag}"}


def test_three_files_per_merchant_with_its_own_rows(engine: Engine, tmp_path: Path) -> None:
    merchants = fresh_merchants()
    a, b = merchants["MER000002"], merchants["MER000005"]
    body = two_merchant_order(engine, merchants)
    other = two_merchant_order(engine, merchants)
    # the worked example of spec 9.4: MER000002 cancels its mug
    event = MerchantEvent(a, f"{body['number']}--{a}", "cancel by merchant", (item_ref(body, 1),))
    assert trigger_merchant_event(event, SqlUnitOfWork(engine)).records[0].outcome == "applied"

    counts = rows_per_merchant(export_merchant_orders(engine, tmp_path, ExportFilter((a, b))))
    assert sorted(counts) == [a, b]
    assert counts[a] == {NAMES[0]: 2, NAMES[1]: 4, NAMES[2]: 2}
    assert counts[b] == {NAMES[0]: 2, NAMES[1]: 2, NAMES[2]: 0}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([a, b])
    for merchant in (a, b):
        assert sorted(p.name for p in (tmp_path / merchant).iterdir()) == sorted(NAMES)
    columns, orders = read(tmp_path / a / "merchant-orders.csv")
    assert columns == list(ORDER_COLUMNS)
    assert {r["merchant_reference"] for r in orders} == {a}
    mine = next(r for r in orders if r["marketplace_order_reference"] == body["number"])
    assert {k: mine[k] for k in ORDER_COLUMNS[9:]} == {
        "merchant_order_totals_subtotal": "15000",
        "merchant_order_totals_order_expense_total": "590",
        "merchant_order_totals_discount_total": "500",
        "merchant_order_totals_tax_total": "1765",
        "merchant_order_totals_canceled_total": "4500",
        "merchant_order_totals_refund_total": "0",
        "merchant_order_totals_grand_total": "10590",
        "merchant_order_item_states": "canceled by merchant,new",
    }
    assert (mine["currency_iso_code"], mine["email"], mine["channel_id"]) == (
        "TRY", "ayse@example.com", "42",
    )  # fmt: skip
    columns, items = read(tmp_path / a / "merchant-order-items.csv")
    assert columns == list(ITEM_COLUMNS)
    mug = next(r for r in items if r["merchant_order_item_reference"] == item_ref(body, 1))
    assert {k: mug[k] for k in ("quantity", "price", "discount_amount_aggregation")} == {
        "quantity": "2", "price": "2500", "discount_amount_aggregation": "500",
    }  # fmt: skip
    assert (mug["price_to_pay_aggregation"], mug["canceled_amount"], mug["tax_amount"]) == (
        "4500", "4500", "0",
    )  # fmt: skip
    assert (mug["merchant_order_item_state"], mug["order_item_status"]) == (
        "canceled by merchant", "100",
    )  # fmt: skip
    kettle = next(r for r in items if r["merchant_order_item_reference"] == item_ref(body, 0))
    assert (kettle["tax_amount"], kettle["package_status"]) == ("1667", "waiting")
    columns, expenses = read(tmp_path / a / "merchant-order-expenses.csv")
    assert columns == list(EXPENSE_COLUMNS)
    assert {(r["marketplace_order_reference"], r["price"], r["tax_amount"]) for r in expenses} == {
        (body["number"], "590", "98"),
        (other["number"], "590", "98"),
    }
    # B's files: its own rows only, and a header alone where it has none
    _, b_items = read(tmp_path / b / "merchant-order-items.csv")
    assert {r["merchant_order_item_reference"] for r in b_items} == {
        item_ref(body, 2), item_ref(other, 2),
    }  # fmt: skip
    assert read(tmp_path / b / "merchant-order-expenses.csv") == (list(EXPENSE_COLUMNS), [])


def test_filters_by_merchant_and_creation_date(engine: Engine, tmp_path: Path) -> None:
    merchants = fresh_merchants()
    a = merchants["MER000002"]
    old, new = two_merchant_order(engine, merchants), two_merchant_order(engine, merchants)
    with engine.begin() as c:
        c.execute(
            update(t.merchant_orders)
            .where(t.merchant_orders.c.reference == f"{old['number']}--{a}")
            .values(created_at=datetime(2020, 1, 1, 12, tzinfo=UTC))
        )
    since = datetime.now(UTC) - timedelta(days=1)
    report = export_merchant_orders(engine, tmp_path, ExportFilter((a,), created_from=since))
    counts = rows_per_merchant(report)
    assert list(counts) == [a]
    _, orders = read(tmp_path / a / "merchant-orders.csv")
    assert [r["marketplace_order_reference"] for r in orders] == [new["number"]]
    until = datetime(2020, 1, 2, tzinfo=UTC)
    export_merchant_orders(engine, tmp_path / "old", ExportFilter((a,), created_to=until))
    _, orders = read(tmp_path / "old" / a / "merchant-orders.csv")
    assert [r["marketplace_order_reference"] for r in orders] == [old["number"]]


@pytest.mark.timeout(600)
def test_two_thousand_merchant_orders_stream_to_their_files_in_flat_memory(
    engine: Engine, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    refs = [f"S{n}{tag}" for n in range(4)]
    base = uuid.uuid4().int % 10**11
    for n in range(500):  # 500 orders x 4 merchants = 2,000 merchant orders
        store(
            engine,
            {
                "number": f"BIG-{tag}-{n}",
                "channel": {"id": 48, "name": "Bulk", "channel_type": "trendyol"},
                "status": "400",
                "date_placed": "2026-11-20T10:15:00+03:00",
                "currency": "try",
                "items": [
                    {
                        "id": base + 4 * n + m,
                        "product": {"sku": f"SKU-{m}", "name": f"Item {m}"},
                        "merchant_reference": ref,
                        "price": f"{10 + m}.00",
                        "tax_rate": "20",
                    }
                    for m, ref in enumerate(refs)
                ],
            },
        )
    counts = rows_per_merchant(export_merchant_orders(engine, tmp_path, ExportFilter(tuple(refs))))
    assert counts == {ref: {NAMES[0]: 500, NAMES[1]: 500, NAMES[2]: 0} for ref in refs}
    for m, ref in enumerate(refs):
        _, orders = read(tmp_path / ref / "merchant-orders.csv")
        assert len(orders) == 500 and {r["merchant_reference"] for r in orders} == {ref}
        assert {r["merchant_order_totals_grand_total"] for r in orders} == {str(1000 + 100 * m)}
        _, items = read(tmp_path / ref / "merchant-order-items.csv")
        assert len({r["merchant_order_item_reference"] for r in items}) == 500

    # memory flat in the number of rows: twice the rows, the same peak (rows held in memory
    # would double it; a batch is 500 rows, so both runs span several batches); progress every
    # 500 rows and when a file is done
    def peak(merchants: list[str], folder: str, progress: Progress | None = None) -> int:
        tracemalloc.start()
        try:
            where = ExportFilter(tuple(merchants))
            export_merchant_orders(engine, tmp_path / folder, where, progress=progress)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(refs[:2], "warm-up-2")  # caches filled once (a statement compiled per filter shape)
    peak(refs, "warm-up-4")
    two = peak(refs[:2], "two")
    calls: list[tuple[str, int, bool]] = []
    four = peak(refs, "four", lambda name, rows, done: calls.append((name, rows, done)))
    assert four < 1.25 * two, (two, four)
    assert calls == [
        *((NAMES[0], n, False) for n in (500, 1000, 1500, 2000)), (NAMES[0], 2000, True),
        *((NAMES[1], n, False) for n in (500, 1000, 1500, 2000)), (NAMES[1], 2000, True),
        (NAMES[2], 0, True),
    ]  # fmt: skip
