"""Stage 3, public queue `oms.packaging`: run a named transition (command) on a package."""

from __future__ import annotations

from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage

from adapters import metrics
from domain.errors import InvalidInput
from domain.package_commands import run_package_command as run
from schemas.envelope import single_body
from schemas.package_command import parse_package_command
from workers import bootstrap

log = structlog.get_logger(__name__)


@dramatiq.actor(
    queue_name="oms.packaging", actor_name="run_package_command", throws=(InvalidInput,)
)
def run_package_command(*args: Any, **kwargs: Any) -> None:
    command = parse_package_command(single_body(args, kwargs))
    structlog.contextvars.bind_contextvars(package=command.package_ref, slug=command.slug)
    message = CurrentMessage.get_current_message()
    message_id = message.message_id if message is not None else None
    result = run(
        command,
        bootstrap.unit_of_work(),
        bootstrap.shipping(),
        message_id=message_id,
        seen_order=bootstrap.seen_order,
    )
    for note in result.notes:
        log.info("package.shipment_client_default", note=note)
    record = result.record
    if not result.repeated:
        metrics.count("oms_package_commands_total", slug=record.slug, outcome=record.outcome)
    log.info(
        f"package.command_{record.outcome}",
        repeated=result.repeated,
        reason=record.reason,
        from_status=record.from_status.name if record.from_status else None,
        to_status=record.to_status.name if record.to_status else None,
    )
