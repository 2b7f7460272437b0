"""Use cases. Each runs in one unit of work and is safe to run twice with the same input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.errors import UnknownOrder
from domain.lines import order_status, settle_expenses
from domain.merchant_oms import DEFAULT_PROCESS, MAIN_PROCESS, MerchantTransitionRecord
from domain.messages import OutboxMessage, SplitOrder
from domain.model import MerchantOrder, Order
from domain.ports import UnitOfWork
from domain.splitting import split, start_records
from domain.statuses import OrderStatus
from domain.totals import totals_of

Clock = Callable[[], datetime]
# told the order's number once a use case knows which order a message concerns (the workers
# bind it to their log lines and dead-letter records)
SeenOrder = Callable[[str], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def unseen(number: str) -> None:
    """The default SeenOrder: nobody listens."""


@dataclass(frozen=True)
class Ingested:
    order_id: int | None
    created: bool
    # a re-sent order: the outcomes of the cancel/refund events it fired (spec 9.4)
    updates: list[MerchantTransitionRecord] = field(default_factory=list)


@dataclass(frozen=True)
class Split:
    order_id: int
    merchant_orders: list[MerchantOrder]

    @property
    def created(self) -> bool:
        return bool(self.merchant_orders)


def ingest_order(
    order: Order, uow: UnitOfWork, message_id: str | None = None, clock: Clock = utc_now
) -> Ingested:
    """Store a validated order (creating its channel on first sight) and ask for its split.
    Lines that arrive cancelled or refunded settle as if they had ended afterwards (spec 9.4):
    their expenses follow them and the order's status follows its items.

    A second delivery of the same (channel, number) stores nothing and sends nothing, except
    that items it now says cancelled (100) or refunded (600) take `cancel` (`refund`)."""
    with uow:
        uow.channels.add_if_missing(order.channel)
        settle_expenses(order.items, order.expenses)
        order.status = order_status(item.status for item in order.items)
        order.totals = totals_of(order.items, order.expenses)
        created = uow.orders.add(order)
        if created:
            assert order.id is not None
            uow.outbox.add(OutboxMessage(SplitOrder(order_id=order.id)))
            uow.commit()
            return Ingested(order_id=order.id, created=True)
        (stored,) = uow.orders.find(order.number, order.channel.id)
    now_says = {item.omnitron_id: item.status for item in order.items}
    events = {
        item.omnitron_id: RESENT_EVENTS[now_says[item.omnitron_id]]
        for item in stored.items
        if now_says.get(item.omnitron_id) in RESENT_EVENTS
        and item.status != now_says[item.omnitron_id]
    }
    updates = []
    if events:
        from domain.merchant_events import channel_update

        updates = channel_update(stored.id or 0, events, uow, message_id, clock)
    return Ingested(order_id=stored.id, created=False, updates=updates)


RESENT_EVENTS = {OrderStatus.cancelled: "cancel", OrderStatus.refunded: "refund"}


def split_order(
    order_id: int,
    uow: UnitOfWork,
    clock: Clock = utc_now,
    main_merchant: str = "MAIN",
    seen_order: SeenOrder = unseen,
) -> Split:
    """Merchants on first sight, one merchant order with totals, its items in their merchant's
    process and one waiting package of the live items per merchant; once per order."""
    with uow:
        order = uow.orders.get(order_id, lock=True)
        if order is None:
            raise UnknownOrder(f"order id {order_id} does not exist")
        seen_order(order.number)
        if order.split:
            return Split(order_id=order_id, merchant_orders=[])
        merchants = uow.merchants.get_or_add_all(
            {
                reference: MAIN_PROCESS if reference == main_merchant else DEFAULT_PROCESS
                for reference in order.merchant_references()
            }
        )
        processes = {reference: m.oms_process for reference, m in merchants.items()}
        now = clock()
        merchant_orders = split(order, now, processes)
        uow.merchant_orders.add_all(merchant_orders)
        uow.merchant_log.add_all(start_records(merchant_orders, order_id, now))
        uow.orders.mark_split(order_id)
        uow.commit()
    return Split(order_id=order_id, merchant_orders=merchant_orders)
