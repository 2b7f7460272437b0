"""Reservations on the terminal: a table (or JSON) per merchant and offer, and the check that
every stored figure is the sum recomputed from the items."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from adapters.persistence.engine import make_engine
from adapters.persistence.merchants import merchant_exists
from adapters.queries.reservations import reservation_page, verify_reservations
from adapters.settings import Settings
from domain.reservations import Reservation

HEADER = ("merchant", "offer / sku", "reserved", "open items", "oldest open order")


def reservation_table(results: list[Reservation]) -> str:
    """Per merchant and offer: reserved quantity, open items, oldest open order."""
    rows = [HEADER] + [
        (
            r.key.merchant_reference,
            f"{r.key.kind} {r.key.reference}",
            str(r.quantity),
            str(r.open_items),
            "" if r.oldest_order is None else f"{r.oldest_order} ({r.oldest_order_at})",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    right = {2, 3}
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def print_reservations(
    engine: Engine,
    merchant: str | None = None,
    offer: str | None = None,
    sku: str | None = None,
    *,
    as_json: bool = False,
) -> None:
    page = reservation_page(engine, merchant=merchant, offer=offer, sku=sku, limit=None)
    if as_json:
        print(json.dumps([r.as_dict() for r in page.results], indent=2))
    elif not page.results:
        print("nothing reserved")
    else:
        print(reservation_table(page.results))


def list_reservations(
    merchant: str | None, offer: str | None, sku: str | None, *, as_json: bool
) -> int:
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    if merchant is not None and not merchant_exists(engine, merchant):
        raise SystemExit(f"oms: no merchant {merchant} (--merchant)")  # as the API's 400
    print_reservations(engine, merchant, offer, sku, as_json=as_json)
    return 0


def verify_engine(engine: Engine) -> int:
    found = verify_reservations(engine)
    for difference in found:
        print(f"differs: {difference.line()}")
    if found:
        print(f"{len(found)} reservation(s) differ from their items")
        return 1
    print("every reservation equals the sum recomputed from its items")
    return 0


def verify() -> int:
    return verify_engine(make_engine(Settings.from_env().database_url, pool_size=1))
