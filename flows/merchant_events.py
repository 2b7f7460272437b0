"""A merchant's event on its own merchant order, from the HTTP API (spec 11) or the portal's
buttons (spec 12): one implementation. The merchant order is read first — a missing one and
another merchant's are the same `MerchantOrderNotFound`, before anything is published; an event
no process of its items knows is `UnknownEvent`. Then the message goes to `oms.merchant` (the
workers stay the only writers) and its outcome is awaited in the merchant transition log.
`reads` is the engine for the first read (the API's autocommit read engine), `engine` the one
the outcome is awaited on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from anyio import to_thread
from sqlalchemy import Engine

from adapters.messaging.message_ids import new_message_id
from adapters.messaging.publisher import MERCHANT
from adapters.queries.merchant_event_status import EventStatus, merchant_event_status
from adapters.queries.merchant_reads import merchant_order_events
from flows.awaiting import await_found
from schemas.merchant_event import MerchantEventMessage

Publish = Callable[[str, str, Any, str], Any]  # (queue, actor, body, message id)


class MerchantOrderNotFound(Exception):
    """Missing, or another merchant's: the same answer (ownership is never revealed)."""

    def __init__(self, reference: str):
        self.reference = reference
        super().__init__(f"merchant order {reference} not found")


class UnknownEvent(Exception):
    def __init__(self, event: str):
        self.event = event
        super().__init__(f"unknown event {event!r}")


@dataclass(frozen=True)
class Triggered:
    event_id: str
    status: EventStatus | None  # None: not known within the wait (pending)


async def trigger_and_await(
    engine: Engine,
    reads: Engine,
    publish: Publish,
    *,
    merchant_reference: str,
    reference: str,
    event: str,
    item_references: list[str] | None,
    source: Literal["merchant", "api", "import"],
    wait_seconds: float,
    poll_seconds: float,
) -> Triggered:
    known = await to_thread.run_sync(merchant_order_events, reads, reference, merchant_reference)
    if known is None:
        raise MerchantOrderNotFound(reference)
    if event not in known:
        raise UnknownEvent(event)
    message = MerchantEventMessage(
        merchant_reference=merchant_reference,
        merchant_order_reference=reference,
        event=event,
        item_references=item_references,
        source=source,
    ).model_dump(exclude_none=True)
    event_id = new_message_id()
    await to_thread.run_sync(publish, *MERCHANT, message, event_id)
    found = await await_found(
        lambda: merchant_event_status(engine, event_id, merchant_reference, reference),
        wait_seconds,
        poll_seconds,
    )
    return Triggered(event_id, found)
