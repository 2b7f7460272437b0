"""Stage 1, public queue `oms.ingest`: validate the inbound order and store it."""

from __future__ import annotations

from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage

from adapters import metrics
from domain import services
from domain.errors import InvalidInput
from schemas.convert import parse_inbound_order
from schemas.envelope import single_body
from workers import bootstrap

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="oms.ingest", actor_name="ingest_order", throws=(InvalidInput,))
def ingest_order(*args: Any, **kwargs: Any) -> None:
    body = single_body(args, kwargs)
    if isinstance(body, dict):
        structlog.contextvars.bind_contextvars(order_number=body.get("number"))
    try:
        order = parse_inbound_order(body, bootstrap.settings().main_merchant_reference)
        message = CurrentMessage.get_current_message()
        message_id = message.message_id if message is not None else None
        result = bootstrap.group("ingest").run(
            lambda uow: services.ingest_order(order, uow, message_id=message_id)
        )
    except InvalidInput:
        metrics.count("oms_orders_rejected_total")
        raise
    metrics.count("oms_orders_ingested_total" if result.created else "oms_orders_duplicate_total")
    if result.updates:  # a re-sent order that cancels or refunds items (spec 9.4)
        log.info(
            "order.updated",
            order_id=result.order_id,
            outcomes=[f"{r.item_reference} {r.event}: {r.outcome.value}" for r in result.updates],
        )
        return
    log.info("order.ingested" if result.created else "order.duplicate", order_id=result.order_id)
