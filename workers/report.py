"""Stage 4, internal queue `oms.report`: report packed items to Omnitron as preparing (450)."""

from __future__ import annotations

from typing import Any

import dramatiq
import structlog

from adapters import metrics
from domain.errors import InvalidInput
from domain.omnitron import OmnitronUnavailable
from domain.package_commands import send_status_report as send
from schemas.envelope import single_body
from schemas.report import parse_report_message
from workers import bootstrap

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="oms.report", actor_name="send_status_report", throws=(InvalidInput,))
def send_status_report(*args: Any, **kwargs: Any) -> None:
    report_id = parse_report_message(single_body(args, kwargs)).report_id
    structlog.contextvars.bind_contextvars(report_id=report_id)
    try:
        outcome = send(
            report_id,
            bootstrap.unit_of_work(),
            bootstrap.omnitron(),
            seen_order=bootstrap.seen_order,
        )
    except Exception as error:
        metrics.count("oms_reports_failed_total", error=type(error).__name__)
        if not isinstance(error, OmnitronUnavailable):
            raise
        if error.retry_after is None:
            raise
        # Omnitron said when to come back: a delayed retry, still counted against max_retries
        raise dramatiq.Retry(str(error), delay=int(error.retry_after * 1000)) from error
    metrics.count("oms_reports_sent_total", int(outcome == "sent"))
    log.info(f"report.{outcome}")
