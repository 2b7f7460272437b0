"""Public queue `oms.merchant`: a merchant event on a merchant order's items (spec 9.3)."""

from __future__ import annotations

from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage

from adapters import metrics
from domain.errors import InvalidInput
from domain.merchant_events import trigger_merchant_event as trigger
from schemas.envelope import single_body
from schemas.merchant_event import parse_merchant_event
from workers import bootstrap

log = structlog.get_logger(__name__)


@dramatiq.actor(
    queue_name="oms.merchant", actor_name="trigger_merchant_event", throws=(InvalidInput,)
)
def trigger_merchant_event(*args: Any, **kwargs: Any) -> None:
    request = parse_merchant_event(single_body(args, kwargs))
    structlog.contextvars.bind_contextvars(
        merchant_order=request.merchant_order_reference, event=request.event
    )
    message = CurrentMessage.get_current_message()
    message_id = message.message_id if message is not None else None
    result = trigger(
        request, bootstrap.unit_of_work(), message_id=message_id, seen_order=bootstrap.seen_order
    )
    outcomes: dict[str, int] = {}
    for record in result.records:
        outcomes[record.outcome.value] = outcomes.get(record.outcome.value, 0) + 1
        if not result.repeated:
            metrics.count("oms_merchant_events_total", outcome=record.outcome.value)
    log.info("merchant.event", repeated=result.repeated, source=request.source.value, **outcomes)
