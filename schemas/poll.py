"""Internal messages of the status poll (queue `oms.poll`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from domain.messages import POLL_MESSAGE_MAX_PACKAGES
from schemas.errors import validate


class StartPollCycleMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="StartPollCycle")
    cycle: StrictInt = Field(ge=1)
    # a follow-up of the cycle's planner: go on with the due packages whose id is above it
    after: StrictInt = Field(default=0, ge=0)


class PollPackagesMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="PollPackages")
    cycle: StrictInt = Field(ge=1)
    package_ids: list[StrictInt] = Field(min_length=1, max_length=POLL_MESSAGE_MAX_PACKAGES)


def parse_start_cycle(body: Any) -> StartPollCycleMessage:
    return validate(StartPollCycleMessage, body)


def parse_poll_packages(body: Any) -> PollPackagesMessage:
    return validate(PollPackagesMessage, body)
