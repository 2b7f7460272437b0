"""The exported JSON Schemas (a public contract, spec 8.1) match the pydantic models, and the
documented examples are valid orders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from schemas.convert import parse_inbound_order
from schemas.export import CONTRACTS, SCHEMA_DIR, render
from schemas.inbound_order import InboundOrder

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
ORDER_EXAMPLES = sorted(EXAMPLES.glob("order-*.json"))
FIX = "the JSON Schema files are stale: run `oms schemas export` and commit schemas/json/"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_exported_schema_matches_the_model(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.is_file(), f"{path} is missing: {FIX}"
    assert path.read_text(encoding="utf-8") == render(*CONTRACTS[name]), f"{name}: {FIX}"


def test_no_schema_file_without_a_contract() -> None:
    files = {p.name for p in SCHEMA_DIR.glob("*.schema.json")}
    assert files == set(CONTRACTS), f"schema files and CONTRACTS differ: {FIX}"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_exported_schema_declares_its_queue_and_actor(name: str) -> None:
    model, queue, actor, public = CONTRACTS[name]
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    assert schema["x-queue"] == queue
    assert schema["x-actor"] == actor
    assert schema["x-public"] is public
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert issubclass(model, BaseModel)


def test_public_contracts_of_spec_8_1() -> None:
    public = {(queue, actor) for _, queue, actor, is_public in CONTRACTS.values() if is_public}
    assert ("oms.ingest", "ingest_order") in public
    assert ("oms.packaging", "run_package_command") in public
    assert ("oms.merchant", "trigger_merchant_event") in public


def test_inbound_order_schema_requires_the_spec_fields() -> None:
    schema = json.loads((SCHEMA_DIR / "inbound-order.schema.json").read_text(encoding="utf-8"))
    assert set(schema["required"]) == {
        "number",
        "channel",
        "status",
        "date_placed",
        "currency",
        "items",
    }
    assert schema["properties"]["items"]["minItems"] == 1
    assert schema["properties"]["items"]["maxItems"] == 1000


def test_there_are_order_examples() -> None:
    assert len(ORDER_EXAMPLES) >= 2


@pytest.mark.parametrize("path", ORDER_EXAMPLES, ids=[p.name for p in ORDER_EXAMPLES])
def test_example_order_is_valid(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    model = InboundOrder.model_validate(body)
    assert model.number == body["number"]
    assert len(model.items) == len(body["items"])
    order = parse_inbound_order(body, "MAIN")
    assert [i.omnitron_id for i in order.items] == [i["id"] for i in body["items"]]
