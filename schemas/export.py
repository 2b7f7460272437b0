"""The JSON Schema files upstream teams use, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.cargo_conditions import CargoCompanyConditions
from schemas.inbound_order import InboundOrder
from schemas.merchant_event import MerchantEventMessage
from schemas.package_command import PackageCommandMessage
from schemas.poll import PollPackagesMessage, StartPollCycleMessage
from schemas.report import SendStatusReportMessage
from schemas.split_order import SplitOrderMessage

SCHEMA_DIR = Path(__file__).parent / "json"

# file name -> (model, queue, actor, public?)
CONTRACTS: dict[str, tuple[type[BaseModel], str, str, bool]] = {
    "inbound-order.schema.json": (InboundOrder, "oms.ingest", "ingest_order", True),
    "split-order.schema.json": (SplitOrderMessage, "oms.split", "split_order", False),
    "package-command.schema.json": (
        PackageCommandMessage,
        "oms.packaging",
        "run_package_command",
        True,
    ),
    "merchant-event.schema.json": (
        MerchantEventMessage,
        "oms.merchant",
        "trigger_merchant_event",
        True,
    ),
    "send-status-report.schema.json": (
        SendStatusReportMessage,
        "oms.report",
        "send_status_report",
        False,
    ),
    "start-poll-cycle.schema.json": (StartPollCycleMessage, "oms.poll", "start_poll_cycle", False),
    "poll-packages.schema.json": (PollPackagesMessage, "oms.poll", "poll_packages", False),
    "cargo-company-conditions.schema.json": (
        CargoCompanyConditions,
        "oms cargo-conditions add",
        "-",
        False,
    ),
}


def render(model: type[BaseModel], queue: str, actor: str, public: bool) -> str:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:oms:{queue}:{actor}:v1",
        "x-queue": queue,
        "x-actor": actor,
        "x-public": public,
        **model.model_json_schema(),
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas() -> list[Path]:
    SCHEMA_DIR.mkdir(exist_ok=True)
    paths = []
    for name, contract in CONTRACTS.items():
        path = SCHEMA_DIR / name
        path.write_text(render(*contract), encoding="utf-8")
        paths.append(path)
    return paths
