"""Stage 5, internal queue `oms.poll`: a started cycle is split into batches of due packages;
each batch is read from Omnitron once and its packages move forward (spec section 7)."""

from __future__ import annotations

import time
from typing import Any

import dramatiq
import structlog

from adapters import metrics
from domain import poll_service
from domain.errors import InvalidInput
from domain.omnitron import OmnitronUnavailable
from schemas.envelope import single_body
from schemas.poll import parse_poll_packages, parse_start_cycle
from workers import bootstrap

log = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="oms.poll", actor_name="start_poll_cycle", throws=(InvalidInput,))
def start_poll_cycle(*args: Any, **kwargs: Any) -> None:
    message = parse_start_cycle(single_body(args, kwargs))
    structlog.contextvars.bind_contextvars(cycle=message.cycle)
    batch = bootstrap.settings().poll_batch_size
    claimed = poll_service.start_cycle(
        message.cycle, bootstrap.unit_of_work(), batch, message.after
    )
    if claimed:  # this part is planned; a follow-up message plans the rest
        log.info("poll.cycle_part_planned", packages=claimed, after=message.after)
    else:
        log.info("poll.cycle_planned", after=message.after)


@dramatiq.actor(queue_name="oms.poll", actor_name="poll_packages", throws=(InvalidInput,))
def poll_packages(*args: Any, **kwargs: Any) -> None:
    message = parse_poll_packages(single_body(args, kwargs))
    structlog.contextvars.bind_contextvars(cycle=message.cycle)
    started = time.monotonic()
    try:
        result = poll_service.poll_packages(
            message.package_ids,
            bootstrap.unit_of_work(),
            bootstrap.omnitron(),
            request_id=f"poll-{message.cycle}-{message.package_ids[0]}",
            batch_size=bootstrap.settings().poll_batch_size,
        )
    except OmnitronUnavailable as error:  # only this batch waits; the others go on
        if error.retry_after is None:
            raise
        raise dramatiq.Retry(str(error), delay=int(error.retry_after * 1000)) from error
    metrics.observe("oms_poll_batch_seconds", time.monotonic() - started)
    metrics.count("oms_poll_packages_total", len(result.moved), outcome="moved")
    metrics.count(
        "oms_poll_packages_total", result.polled - len(result.moved), outcome="polled_unchanged"
    )
    for move in result.moved:  # one line per package moved, with its order's number
        package = result.packages.get(move.package_id)
        log.info(
            "poll.package_moved",
            order_number=package.order_number if package else None,
            package=package.package_number if package else move.package_id,
            from_status=package.status.name if package else None,
            to_status=move.target.name if move.target else None,
            omnitron_status=move.seen,
        )
    for number in result.unknown_orders:
        log.warning("poll.order_unknown", order_number=number, note="retried next cycle")
    for number, problem in result.malformed_orders:
        log.warning("poll.answer_malformed", order_number=number, problem=problem)
    metrics.count("oms_poll_malformed_answers_total", len(result.malformed_orders))
    log.info(
        "poll.batch_done",
        polled=result.polled,
        moved=len(result.moved),
        unknown_orders=len(result.unknown_orders),
        malformed_orders=len(result.malformed_orders),
        order_numbers=sorted({p.order_number for p in result.packages.values()}),
    )
