"""Status codes: Omnitron's order/order-item codes and the OMS package codes (spec section 2)."""

from __future__ import annotations

from enum import IntEnum


class OrderStatus(IntEnum):
    cancellation_waiting = 50
    cancelled = 100
    waiting = 200
    payment_waiting = 300
    confirmation_waiting = 350
    approved = 400
    preparing = 450
    shipped = 500
    shipped_and_informed = 510
    ready_for_pickup = 520
    attempted_delivery = 540
    delivered = 550
    refunded = 600

    @classmethod
    def from_code(cls, code: str | int) -> OrderStatus:
        try:
            return cls(int(code))
        except (TypeError, ValueError):
            known = ", ".join(str(s.value) for s in cls)
            raise ValueError(f"unknown Omnitron status code {code!r} (known: {known})") from None


class PackageStatus(IntEnum):
    waiting = 100
    preparing = 200
    ready_to_pack = 400
    packed = 500
    shipped = 700
    attempted_delivery = 720
    delivered = 800
    cancelled = 950  # every item cancelled: neither packed nor polled (spec 2, 9.4)


# A line that is neither cancelled nor refunded is live (spec 2): totals, expenses, packing,
# reports and the poll all use this one definition (50 cancellation_waiting is live until the
# channel cancels it)
ENDED = frozenset({OrderStatus.cancelled, OrderStatus.refunded})


def is_live(status: OrderStatus) -> bool:
    return status not in ENDED
