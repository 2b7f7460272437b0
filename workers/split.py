"""Stage 2, internal queue `oms.split`: merchant orders with totals, one package each."""

from __future__ import annotations

from typing import Any

import dramatiq
import structlog

from adapters import metrics
from domain import services
from domain.errors import InvalidInput
from schemas.envelope import single_body
from schemas.split_order import parse_split_order
from workers import bootstrap

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="oms.split", actor_name="split_order", throws=(InvalidInput,))
def split_order(*args: Any, **kwargs: Any) -> None:
    command = parse_split_order(single_body(args, kwargs))
    main_merchant = bootstrap.settings().main_merchant_reference
    result = bootstrap.group("split").run(
        lambda uow: services.split_order(
            command.order_id, uow, main_merchant=main_merchant, seen_order=bootstrap.seen_order
        ),
        key=command.order_id,
    )
    metrics.count("oms_merchant_orders_total", len(result.merchant_orders))
    log.info(
        "order.split" if result.created else "order.already_split",
        order_id=command.order_id,
        merchant_orders=[mo.reference for mo in result.merchant_orders],
    )
