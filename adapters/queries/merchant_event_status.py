"""What became of a merchant event the HTTP API published (by its message id), as one merchant
may see it: the outcomes logged for that merchant order, or the dead letter's reason when the
message was dead-lettered. Each call takes a pooled connection and gives it back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.queries.merchant_orders import event_outcomes
from domain.merchant_oms import MerchantTransitionRecord, Outcome


@dataclass(frozen=True)
class EventStatus:
    records: list[MerchantTransitionRecord]
    dead_reason: str | None = None

    @property
    def rejected_whole(self) -> str | None:
        """The reason when the whole request was rejected (dead-lettered, or one log line
        with no item: unknown event, merchant order not found)."""
        if self.dead_reason is not None:
            return self.dead_reason
        whole = [r for r in self.records if not r.item_reference]
        if len(self.records) == 1 and whole and whole[0].outcome is Outcome.rejected:
            return whole[0].reason
        return None


def merchant_event_status(
    engine: Engine, message_id: str, merchant_reference: str, merchant_order_reference: str
) -> EventStatus | None:
    """None while the event is not handled (or is not this merchant order's)."""
    records = [
        r
        for r in event_outcomes(engine, message_id)
        if r.merchant_order_reference == merchant_order_reference
    ]
    if records:
        return EventStatus(records)
    with engine.connect() as connection:
        row = connection.execute(
            select(t.dead_letters.c.reason, t.dead_letters.c.message).where(
                t.dead_letters.c.message_id == message_id
            )
        ).first()
    if row is None or not _sent_for(row.message, merchant_reference, merchant_order_reference):
        return None
    return EventStatus([], str(row.reason))


def _sent_for(message: Any, merchant_reference: str, merchant_order_reference: str) -> bool:
    args = message.get("args") if isinstance(message, dict) else None
    body = args[0] if isinstance(args, list) and args else None
    return (
        isinstance(body, dict)
        and body.get("merchant_reference") == merchant_reference
        and body.get("merchant_order_reference") == merchant_order_reference
    )
