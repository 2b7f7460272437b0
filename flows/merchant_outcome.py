"""One merchant event outcome as the operator reads it (`oms merchant event --wait`, the status
import's row lines, the demo): `TY-…--5002 ship: applied (new -> shipped)`."""

from __future__ import annotations

from domain.merchant_oms import MerchantTransitionRecord, Outcome


def outcome_line(record: MerchantTransitionRecord) -> str:
    what = record.item_reference or f"merchant order {record.merchant_order_reference}"
    moved = f" ({record.from_state} -> {record.to_state})" if record.to_state else ""
    detail = "" if record.outcome is Outcome.applied else f": {record.reason}"
    return f"{what} {record.event}: {record.outcome.value}{moved}{detail}"
