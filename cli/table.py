"""Readable tables: orders -> merchant orders -> totals -> packages."""

from __future__ import annotations

from typing import Any

from domain.money import format_minor_units

# every total of spec 4, so the figures on screen add up: grand = subtotal + expenses -
# discount - cancelled - refunded (tax is included in the prices; it is shown, not added)
COLUMNS = [
    "subtotal",
    "expense_total",
    "discount_total",
    "canceled_total",
    "refund_total",
    "tax_total",
    "grand_total",
]
HEADER = ["subtotal", "expenses", "discount", "cancelled", "refunded", "tax", "grand"]
LEGEND = "grand = subtotal + expenses - discount - cancelled - refunded; tax is included"


def _money(totals: dict[str, int], currency: str) -> list[str]:
    return [format_minor_units(totals[c], currency) for c in COLUMNS]


def order_table(order: dict[str, Any]) -> str:
    currency = order["currency"]
    rows = [
        [f"{order['number']} ({order['channel']['name']})", *_money(order["totals"], currency), ""]
    ]
    packages = {p["number"]: p for p in order["packages"]}
    for mo in order["merchant_orders"]:
        package = packages.get(mo["package_number"])
        status = f"package {package['id']} {package['status']}" if package else "no package"
        status += f"; {', '.join(mo['states'])}" if mo.get("states") else ""
        rows.append([f"  {mo['reference']}", *_money(mo["totals"], currency), status])
    market = order["marketplace_expenses"]
    if market["expense_total"]:
        rows.append(["  marketplace expenses", *_money(market, currency), ""])
    table = format_rows(
        [["order / merchant order", *HEADER, "package"], *rows],
        numeric=set(range(1, len(COLUMNS) + 1)),
    )
    return f"{table}\n{LEGEND}"


def format_rows(rows: list[list[str]], numeric: set[int] | frozenset[int] = frozenset()) -> str:
    """Columns padded to their widest cell; numeric columns right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
