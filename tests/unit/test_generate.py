"""Generated orders (demo, benchmark) are valid, and order files are read in all three formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.generate import generate_orders
from cli.orders_file import read_bodies
from domain.money import to_minor_units
from domain.totals import totals_of
from schemas.convert import parse_inbound_order


@pytest.fixture(scope="module")
def bodies() -> list[dict[str, Any]]:
    return generate_orders(50)


def test_generated_orders_all_parse(bodies: list[dict[str, Any]]) -> None:
    assert len(bodies) == 50
    for body in bodies:
        order = parse_inbound_order(body, "MAIN")
        assert order.number == body["number"]


def test_generated_amount_is_the_computed_grand_total(bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        order = parse_inbound_order(body, "MAIN")
        grand_total = totals_of(order.items, order.expenses).grand_total
        assert to_minor_units(body["amount"], body["currency"]) == grand_total


def test_generated_numbers_and_item_ids_are_unique(bodies: list[dict[str, Any]]) -> None:
    numbers = [b["number"] for b in bodies]
    item_ids = [i["id"] for b in bodies for i in b["items"]]
    assert len(set(numbers)) == len(numbers)
    assert len(set(item_ids)) == len(item_ids)


def test_generation_is_reproducible_and_prefix_and_first_id_apply() -> None:
    assert generate_orders(3, seed=1) == generate_orders(3, seed=1)
    bodies = generate_orders(2, prefix="BENCH", first_item_id=500)
    assert [b["number"] for b in bodies] == ["BENCH-000001", "BENCH-000002"]
    assert bodies[0]["items"][0]["id"] == 500


def test_generated_orders_are_json(bodies: list[dict[str, Any]]) -> None:
    assert json.loads(json.dumps(bodies)) == bodies


# --- read_bodies -------------------------------------------------------------------------------

ORDERS = [{"number": "A", "items": []}, {"number": "B", "items": [1]}, {"number": "C"}]


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "orders.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_read_bodies_from_a_json_object(tmp_path: Path) -> None:
    source = _write(tmp_path, json.dumps(ORDERS[0], indent=2))
    assert list(read_bodies(source)) == [ORDERS[0]]


def test_read_bodies_from_a_json_array(tmp_path: Path) -> None:
    source = _write(tmp_path, json.dumps(ORDERS, indent=2))
    assert list(read_bodies(source)) == ORDERS


def test_read_bodies_from_json_lines(tmp_path: Path) -> None:
    text = "\n".join(json.dumps(o) for o in ORDERS) + "\n\n"
    assert list(read_bodies(_write(tmp_path, text))) == ORDERS


def test_read_bodies_from_an_empty_file(tmp_path: Path) -> None:
    assert list(read_bodies(_write(tmp_path, "  \n"))) == []


def test_read_bodies_names_the_bad_line(tmp_path: Path) -> None:
    text = json.dumps(ORDERS[0]) + "\n{not json\n"
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        list(read_bodies(_write(tmp_path, text)))


def test_read_bodies_round_trips_generated_orders(tmp_path: Path) -> None:
    bodies = generate_orders(5)
    text = "\n".join(json.dumps(b) for b in bodies)
    assert list(read_bodies(_write(tmp_path, text))) == bodies
