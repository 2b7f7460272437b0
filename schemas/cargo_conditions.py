"""The cargo company conditions body of `POST /cargo-company-conditions/` (seed; spec §5)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from domain.shipping import CHANNEL_CONDITION, OMNITRON_CLIENT, CargoConditions, ChannelRule
from schemas.errors import InvalidMessage

SHIPMENT_CLIENTS = frozenset({OMNITRON_CLIENT})


class ClientConf(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    klass: str

    @field_validator("klass")
    @classmethod
    def _known_client(cls, klass: str) -> str:
        if klass not in SHIPMENT_CLIENTS:
            raise ValueError(
                f"unknown shipment client {klass!r} (known: {sorted(SHIPMENT_CLIENTS)})"
            )
        return klass


class ChannelParams(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    condition_type: Literal["sales_channel"]
    channels: list[StrictInt] = Field(min_length=1)
    conf: ClientConf


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    klass: str
    params: dict[str, Any]

    @field_validator("klass")
    @classmethod
    def _known_condition(cls, klass: str) -> str:
        if klass != CHANNEL_CONDITION:
            raise ValueError(f"unknown condition {klass!r} (known: {CHANNEL_CONDITION!r})")
        return klass


class RulesConfiguration(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    rules: list[Rule]


class CargoCompanyConditions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, title="CargoCompanyConditions")
    cargo_company: StrictInt = Field(ge=1, le=2**63 - 1)
    rules_configuration: RulesConfiguration


def parse_cargo_conditions(body: Any) -> CargoConditions:
    try:
        model = CargoCompanyConditions.model_validate(body)
        rules = []
        for index, rule in enumerate(model.rules_configuration.rules):
            try:
                params = ChannelParams.model_validate(rule.params)
            except ValidationError as error:
                prefix = f"rules_configuration.rules[{index}].params"
                raise InvalidMessage.from_validation_error(error, prefix) from None
            rules.append(ChannelRule(frozenset(params.channels), params.conf.klass))
    except ValidationError as error:
        raise InvalidMessage.from_validation_error(error) from None
    return CargoConditions(model.cargo_company, tuple(rules))
