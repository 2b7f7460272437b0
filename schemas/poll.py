"""Internal messages of the status poll (queue `oms.poll`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from schemas.errors import InvalidMessage


class StartPollCycleMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="StartPollCycle")
    cycle: StrictInt = Field(ge=1)


class PollPackagesMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="PollPackages")
    cycle: StrictInt = Field(ge=1)
    package_ids: list[StrictInt] = Field(min_length=1, max_length=1000)


def parse_start_cycle(body: Any) -> StartPollCycleMessage:
    try:
        return StartPollCycleMessage.model_validate(body)
    except ValidationError as error:
        raise InvalidMessage.from_validation_error(error) from None


def parse_poll_packages(body: Any) -> PollPackagesMessage:
    try:
        return PollPackagesMessage.model_validate(body)
    except ValidationError as error:
        raise InvalidMessage.from_validation_error(error) from None
