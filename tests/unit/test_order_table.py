"""`oms show order` as text shows every total, so the figures on screen add up (issue 21
item 20: cancelled and refunded were missing, and grand was not subtotal + expenses - discount)."""

from __future__ import annotations

from typing import Any

from cli.table import COLUMNS, order_table

TOTALS = {  # spec 4's worked example after `cancel by merchant` on item 5002
    "subtotal": 35000,
    "expense_total": 1090,
    "discount_total": 500,
    "canceled_total": 4500,
    "refund_total": 0,
    "tax_total": 5181,
    "grand_total": 31090,
}


def document() -> dict[str, Any]:
    mo = {**TOTALS, "subtotal": 15000, "expense_total": 590, "tax_total": 1765}
    mo["grand_total"] = 10590
    return {
        "number": "TY-100042",
        "channel": {"id": 42, "name": "Trendyol"},
        "currency": "try",
        "totals": TOTALS,
        "packages": [],
        "marketplace_expenses": {
            **dict.fromkeys(COLUMNS, 0),
            "expense_total": 500,
            "tax_total": 83,
            "grand_total": 500,
        },
        "merchant_orders": [
            {"reference": "TY-100042--MER000002", "package_number": None, "totals": mo},
            {
                "reference": "TY-100042--MER000005",
                "package_number": None,
                "totals": {
                    **dict.fromkeys(COLUMNS, 0),
                    "subtotal": 20000,
                    "tax_total": 3333,
                    "grand_total": 20000,
                },
            },
        ],
    }


def money(cell: str) -> int:
    return round(float(cell) * 100)


def test_every_total_is_shown_and_the_row_adds_up() -> None:
    lines = order_table(document()).splitlines()
    assert lines[0].split()[4:11] == [
        "subtotal", "expenses", "discount", "cancelled", "refunded", "tax", "grand",
    ]  # fmt: skip
    order = lines[1].split()
    assert order[0] == "TY-100042"
    figures = [money(cell) for cell in order[2:9]]  # after "TY-100042 (Trendyol)"
    subtotal, expenses, discount, cancelled, refunded, _tax, grand = figures
    assert figures == [TOTALS[c] for c in COLUMNS]
    assert grand == subtotal + expenses - discount - cancelled - refunded
    mo = lines[2].split()
    assert [money(c) for c in mo[1:8]] == [15000, 590, 500, 4500, 0, 1765, 10590]
    assert "cancelled - refunded" in lines[-1]
