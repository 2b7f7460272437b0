"""Internal message `oms.report` / `send_status_report`: send one stored status report."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from schemas.errors import InvalidMessage


class SendStatusReportMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="SendStatusReport")

    report_id: StrictInt = Field(ge=1)


def parse_report_message(body: Any) -> SendStatusReportMessage:
    try:
        return SendStatusReportMessage.model_validate(body)
    except ValidationError as error:
        raise InvalidMessage.from_validation_error(error) from None
