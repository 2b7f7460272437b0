"""Product offer reservations (spec 9.5, Spryker's OmsProductOfferReservation): per merchant and
offer (`product_offer_reference`, or the SKU when the item has none), the quantity of that
merchant's order items whose merchant state is reserved. A state is reserved by data (a flag per
process and state); this module turns item state changes into changes of the stored figures."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from domain.model import MerchantOrderItem

# The states the migration marks reserved in both shipped processes (spec 9.5): stock that open
# orders claimed and that has not left the merchant's warehouse.
SHIPPED_RESERVED_STATES = frozenset(
    {"created", "new", "left the merchant location", "arrived at distribution center"}
)

OFFER = "offer"  # keyed by product_offer_reference
SKU = "sku"  # the item had no offer: keyed by its SKU


@dataclass(frozen=True, order=True)
class OfferKey:
    """What one reservation counts: a merchant's offer, or its SKU when there is no offer."""

    merchant_reference: str
    kind: str  # OFFER or SKU
    reference: str

    def label(self) -> str:
        return f"{self.merchant_reference} {self.kind} {self.reference}"


def offer_key(merchant_reference: str, product_offer_reference: str | None, sku: str) -> OfferKey:
    if product_offer_reference:
        return OfferKey(merchant_reference, OFFER, product_offer_reference)
    return OfferKey(merchant_reference, SKU, sku)


@dataclass(frozen=True)
class StateChange:
    """One merchant order item moving from `before` (None: it did not exist) to `after`."""

    key: OfferKey
    quantity: int
    process: str
    before: str | None
    after: str


@dataclass(frozen=True)
class Delta:
    quantity: int
    items: int


Reserved = Callable[[str, str], bool]  # (process, state) -> reserved


def deltas(changes: Iterable[StateChange], reserved: Reserved) -> dict[OfferKey, Delta]:
    """The change of each touched reservation: + an item entering a reserved state, - one
    leaving it; offers whose figure does not change are left out. Sorted by key, so that
    writers lock reservation rows in one order."""
    quantity: dict[OfferKey, int] = {}
    items: dict[OfferKey, int] = {}
    for change in changes:
        was = change.before is not None and reserved(change.process, change.before)
        now = reserved(change.process, change.after)
        if was == now:
            continue
        sign = 1 if now else -1
        quantity[change.key] = quantity.get(change.key, 0) + sign * change.quantity
        items[change.key] = items.get(change.key, 0) + sign
    return {
        key: Delta(quantity[key], items[key])
        for key in sorted(quantity)
        if quantity[key] or items[key]
    }


def change_of(merchant_reference: str, item: MerchantOrderItem) -> StateChange:
    """The item's move from its state as last stored (None: new) to its state now."""
    return StateChange(
        offer_key(merchant_reference, item.product_offer_reference, item.sku),
        item.quantity,
        item.process,
        item.stored_state,
        item.state,
    )


def settle(
    written: Iterable[tuple[str, MerchantOrderItem]], reserved: Reserved
) -> dict[OfferKey, Delta]:
    """What writing these (merchant reference, item) states changes in the reservations; the
    items' states count as stored afterwards. Every repository that writes a merchant order
    item's state calls this with the items it writes, in the same transaction."""
    pairs = list(written)
    changes = deltas((change_of(m, item) for m, item in pairs), reserved)
    for _, item in pairs:
        item.stored_state = item.state
    return changes


def recompute(
    items: Iterable[tuple[str, MerchantOrderItem]], reserved: Reserved
) -> dict[OfferKey, tuple[int, int]]:
    """The definition (spec 9.5): per offer, the quantity and count of reserved items."""
    found: dict[OfferKey, tuple[int, int]] = {}
    for merchant_reference, item in items:
        if reserved(item.process, item.state):
            key = offer_key(merchant_reference, item.product_offer_reference, item.sku)
            quantity, count = found.get(key, (0, 0))
            found[key] = (quantity + item.quantity, count + 1)
    return found


def add_to(stored: dict[OfferKey, tuple[int, int]], changes: dict[OfferKey, Delta]) -> None:
    """Apply changes to figures held in memory (as the SQL upsert does to the rows); a figure
    back at zero is no reservation."""
    for key, delta in changes.items():
        quantity, count = stored.get(key, (0, 0))
        stored[key] = (quantity + delta.quantity, count + delta.items)
        if stored[key] == (0, 0):
            del stored[key]


@dataclass(frozen=True)
class Reservation:
    """One offer's reservation as read: reserved quantity, open (reserved) items, the oldest
    order holding one of them."""

    key: OfferKey
    quantity: int
    open_items: int
    oldest_order: str | None = None
    oldest_order_at: str | None = None  # ISO time the oldest order was placed

    def as_dict(self) -> dict[str, object]:
        return {
            "merchant_reference": self.key.merchant_reference,
            "product_offer_reference": self.key.reference if self.key.kind == OFFER else None,
            "sku": self.key.reference if self.key.kind == SKU else None,
            "reserved_quantity": self.quantity,
            "open_items": self.open_items,
            "oldest_open_order": self.oldest_order,
            "oldest_open_order_placed_at": self.oldest_order_at,
        }


@dataclass(frozen=True)
class Difference:
    """A stored figure that is not the sum recomputed from the items: (quantity, open items),
    and, where read, the offer's rows of reserved items."""

    key: OfferKey
    stored: tuple[int, ...]
    recomputed: tuple[int, ...]

    def line(self) -> str:
        text = (
            f"{self.key.label()}: stored {self.stored[0]} ({self.stored[1]} items), "
            f"recomputed {self.recomputed[0]} ({self.recomputed[1]} items)"
        )
        if self.stored[2:] != self.recomputed[2:]:
            text += f"; {self.stored[2]} reserved item rows"
        return text


def differences(
    stored: Mapping[OfferKey, tuple[int, ...]], recomputed: Mapping[OfferKey, tuple[int, ...]]
) -> list[Difference]:
    """Every offer whose stored figure differs from the recomputation (a missing row is 0)."""
    width = max((len(v) for v in (*stored.values(), *recomputed.values())), default=2)
    zero = (0,) * width
    keys = sorted(set(stored) | set(recomputed))
    return [
        Difference(key, stored.get(key, zero), recomputed.get(key, zero))
        for key in keys
        if stored.get(key, zero) != recomputed.get(key, zero)
    ]
