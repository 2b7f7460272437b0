"""Internal message `oms.report` / `send_status_report`: send one stored status report."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from schemas.errors import validate


class SendStatusReportMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="SendStatusReport")

    report_id: StrictInt = Field(ge=1)


def parse_report_message(body: Any) -> SendStatusReportMessage:
    return validate(SendStatusReportMessage, body)
