"""`POST /api/v1/cargo-company-conditions/`: the seed's body; 201 with the stored conditions,
400 with the reason for an unknown `klass` or bad params. Conditions are configuration, not
pipeline data, and no public queue carries them: like `oms cargo-conditions add`, the API stores
them through the same use case (docs/api.md)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from adapters.persistence.unit_of_work import SqlUnitOfWork
from api.auth import Operator
from api.errors import BODY_ERRORS, ERRORS, ApiError, Problem
from api.models import StoredConditions
from api.responses import JSONResponse
from domain.package_commands import save_cargo_conditions
from domain.shipping import CHANNEL_CONDITION, CargoConditions
from schemas.cargo_conditions import (
    SHIPMENT_CLIENTS,
    CargoCompanyConditions,
    ChannelParams,
    parse_cargo_conditions,
)
from schemas.errors import InvalidMessage

router = APIRouter(prefix="/api/v1", tags=["cargo company conditions"], responses=ERRORS)


def _number(text: str) -> float | int:
    """JSON Schema's integers include 1.0: an integral number is read as an int."""
    value = float(text)
    return int(value) if value.is_integer() else value


def stored(conditions: CargoConditions) -> dict[str, Any]:
    return {
        "cargo_company": conditions.cargo_company_id,
        "rules_configuration": {
            "rules": [
                {
                    "klass": CHANNEL_CONDITION,
                    "params": {
                        "condition_type": "sales_channel",
                        "channels": sorted(rule.channels),
                        "conf": {"klass": rule.client},
                    },
                }
                for rule in conditions.rules
            ]
        },
    }


@router.post(
    "/cargo-company-conditions/",
    status_code=201,
    response_model=StoredConditions,
    responses={
        400: {"model": Problem, "description": "unknown klass or bad params, or not JSON"},
        **BODY_ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/CargoCompanyConditions"}
                }
            },
        }
    },
)
async def add_conditions(request: Request, call: Operator) -> JSONResponse:
    ctx = call.ctx
    try:
        body = json.loads(await request.body(), parse_float=_number)
    except (ValueError, RecursionError) as error:  # RecursionError: BodyLimits stops it first
        raise ApiError(400, f"body: not JSON ({type(error).__name__})") from None
    try:
        conditions = parse_cargo_conditions(body)
    except InvalidMessage as error:
        raise ApiError(400, str(error)) from None
    await run_in_threadpool(save_cargo_conditions, conditions, SqlUnitOfWork(ctx.engine))
    return JSONResponse(stored(conditions), status_code=201)


def component_schemas() -> dict[str, Any]:
    """The request body's schema for the OpenAPI document: the model's, with `klass` and
    `params` as precise as the checks `parse_cargo_conditions` makes, so that every body the
    document allows is accepted."""
    ref = "#/components/schemas/{model}"
    schema = CargoCompanyConditions.model_json_schema(ref_template=ref)
    definitions: dict[str, Any] = schema.pop("$defs", {})
    params = ChannelParams.model_json_schema(ref_template=ref)
    definitions.update(params.pop("$defs", {}), ChannelParams=params)
    rule = definitions["Rule"]["properties"]
    rule["klass"] = {"type": "string", "enum": [CHANNEL_CONDITION], "title": "Klass"}
    rule["params"] = {"$ref": ref.format(model="ChannelParams")}
    client = definitions["ClientConf"]["properties"]
    client["klass"] = {"type": "string", "enum": sorted(SHIPMENT_CLIENTS), "title": "Klass"}
    return {"CargoCompanyConditions": schema, **definitions}
