"""Use cases of merchant events (spec 9.3, 9.4): from the public queue, from the poll and from
a re-sent order. Each locks its packages, then its order (the order packaging locks them in),
moves the items' states, applies the marketplace side and logs every item's outcome, in one
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError
from domain.merchant_effects import Changes, apply_effect, refusal, settle
from domain.merchant_oms import Decision, MerchantTransitionRecord, Outcome, Process, Source
from domain.message_identity import body_fingerprint, ensure_same_body
from domain.messages import OutboxMessage, SendStatusReport
from domain.model import MerchantOrder, MerchantOrderItem, Order
from domain.packaging import StatusReport
from domain.ports import UnitOfWork
from domain.services import Clock, SeenOrder, unseen, utc_now
from domain.statuses import PackageStatus


@dataclass(frozen=True)
class MerchantEvent:
    """An event on a merchant order's items (all of them when `item_references` is None)."""

    merchant_reference: str
    merchant_order_reference: str
    event: str
    item_references: tuple[str, ...] | None = None
    source: Source = Source.merchant


@dataclass(frozen=True)
class EventResult:
    records: list[MerchantTransitionRecord]
    repeated: bool = False  # a redelivery: the first outcomes, nothing changed


class NotSplitYet(DomainError):
    """A re-sent order's cancellation arrived before its split: retried later."""


def trigger_merchant_event(
    request: MerchantEvent, uow: UnitOfWork, message_id: str | None = None,
    clock: Clock = utc_now, seen_order: SeenOrder = unseen,
) -> EventResult:  # fmt: skip
    digest = None if message_id is None else body_fingerprint(request)
    with uow:
        if message_id is not None and (first := uow.merchant_log.by_message(message_id)):
            return _redelivery(message_id, first, digest)
        now = clock()

        def refuse(reason: str) -> EventResult:
            record = MerchantTransitionRecord(
                "", request.merchant_order_reference, request.event, request.source,
                Outcome.rejected, None, None, reason, message_id, None, now, digest,
            )  # fmt: skip
            uow.merchant_log.add_all([record])
            uow.commit()
            return EventResult([record])

        if request.source in (Source.poll, Source.marketplace):
            return refuse(f"source {request.source.value!r} is raised inside the pipeline only")
        found = uow.merchant_orders.find(
            request.merchant_order_reference, request.merchant_reference
        )
        if len(found) != 1:  # a foreign merchant order reads exactly like a missing one
            return refuse(f"merchant order {request.merchant_order_reference} not found")
        order, merchant_orders = _lock(uow, found[0].order_id, [found[0]])
        seen_order(order.number)
        if message_id is not None and (first := uow.merchant_log.by_message(message_id)):
            return _redelivery(message_id, first, digest)  # one that waited for the lock
        mo = next(m for m in merchant_orders if m.id == found[0].id)
        processes = _processes(uow, mo.items)
        if not any(request.event in p.events for p in processes.values()):
            return refuse(f"unknown event {request.event!r}")
        records = []
        wanted = mo.items
        if request.item_references is not None:
            by_ref = {item.reference: item for item in mo.items}
            wanted = [by_ref[r] for r in dict.fromkeys(request.item_references) if r in by_ref]
            records += [
                MerchantTransitionRecord(
                    ref,
                    mo.reference,
                    request.event,
                    request.source,
                    Outcome.rejected,
                    None,
                    None,
                    f"item {ref} not found in merchant order {mo.reference}",
                )
                for ref in dict.fromkeys(request.item_references)
                if ref not in by_ref
            ]
        changes = Changes()
        records += apply_event(request.event, request.source, order, mo, wanted, processes, changes)
        for record in records:
            record.body_sha256 = digest
        _save(uow, order, merchant_orders, records, changes, message_id, now)
        uow.commit()
    return EventResult(records)


def _redelivery(
    message_id: str, first: list[MerchantTransitionRecord], digest: str | None
) -> EventResult:
    """The first outcomes of this message id, when it came with this body; else the id was
    reused for another body (MessageIdReused: dead-lettered, nothing changes)."""
    ensure_same_body(message_id, (r.body_sha256 for r in first), digest)
    return EventResult(first, repeated=True)


def apply_event(
    event: str, source: Source, order: Order, mo: MerchantOrder, items: list[MerchantOrderItem],
    processes: dict[str, Process], changes: Changes,
) -> list[MerchantTransitionRecord]:  # fmt: skip
    """Decide and apply `event` on each item; returns each item's outcome. An event raised
    inside the pipeline skips an item whose line has already ended (cancelled or refunded:
    that is final) and is otherwise applied or forced (spec 9.4)."""
    records = []
    lines = {line.id: line for line in order.items}
    for item in items:
        line = lines[item.order_item_id]
        if not source.outside and not line.live:
            decision = Decision(
                Outcome.skipped, item.state, None, f"order item is already {line.status.name}"
            )
        else:
            decision = processes[item.process].decide(item.state, event, source)
        outcome, target, reason = decision.outcome, decision.to_state, decision.reason
        if outcome.moved:
            refused = refusal(event, source, order, mo)
            if refused is not None:
                outcome, target, reason = Outcome.rejected, None, refused
            else:
                item.state = target or item.state
                apply_effect(event, source, order, mo, item.order_item_id, changes)
        records.append(
            MerchantTransitionRecord(
                item.reference,
                mo.reference,
                event,
                source,
                outcome,
                decision.from_state,
                target,
                reason,
            )
        )
    return records


def fire_for_packages(
    uow: UnitOfWork, moves: dict[int, PackageStatus], now: datetime
) -> list[MerchantTransitionRecord]:
    """The poll moved these packages (spec 9.4, marketplace -> merchant): their live items
    take `ship` (shipped) or `ship` if they still can, then `deliver` (delivered). Runs in the
    poll's transaction; skipped items are logged, the packages move regardless."""
    by_order: dict[int, list[tuple[int, PackageStatus]]] = {}
    for package_id, target in moves.items():
        package = uow.packages.get(package_id)
        if package is not None and package.order_id is not None:
            by_order.setdefault(package.order_id, []).append((package_id, target))
    records: list[MerchantTransitionRecord] = []
    for order_id in sorted(by_order):
        order = uow.orders.get(order_id, lock=True)
        assert order is not None
        merchant_orders = uow.merchant_orders.for_order(order_id)
        changes, mine = Changes(), []
        for package_id, target in by_order[order_id]:
            mo = next(m for m in merchant_orders if m.package and m.package.id == package_id)
            assert mo.package is not None
            live = {
                pi.order_item_id for pi in mo.package.items if pi.status != PackageStatus.cancelled
            }
            items = [i for i in mo.items if i.order_item_id in live]
            processes = _processes(uow, items)
            events = {PackageStatus.shipped: ["ship"], PackageStatus.delivered: ["deliver"]}
            if target is PackageStatus.delivered:
                first = [i for i in items if processes[i.process].has(i.state, "ship")]
                mine += apply_event("ship", Source.poll, order, mo, first, processes, changes)
            for event in events.get(target, []):
                mine += apply_event(event, Source.poll, order, mo, items, processes, changes)
        _save(uow, order, merchant_orders, mine, changes, None, now)
        records += mine
    return records


def channel_update(
    order_id: int, statuses: dict[int, str], uow: UnitOfWork, message_id: str | None,
    clock: Clock = utc_now, source: Source = Source.marketplace,
) -> list[MerchantTransitionRecord]:  # fmt: skip
    """Omnitron says these items are now cancelled (refunded): a re-sent order (source
    marketplace) or the poll's answer (source poll). `cancel` (`refund`) on those items,
    applied or forced whatever their state and their package's (spec 9.4); lines that have
    already ended are skipped. `statuses`: Omnitron item id -> event."""
    with uow:
        if message_id is not None and (first := uow.merchant_log.by_message(message_id)):
            return first
        merchant_orders = uow.merchant_orders.for_order(order_id)
        if not merchant_orders:
            raise NotSplitYet(f"order id {order_id} is not split yet; the update waits for it")
        order, merchant_orders = _lock(uow, order_id, merchant_orders)
        changes, records = Changes(), []
        for mo in merchant_orders:
            for event in sorted(set(statuses.values())):
                items = [i for i in mo.items if statuses.get(i.omnitron_item_id) == event]
                if items:
                    processes = _processes(uow, items)
                    records += apply_event(event, source, order, mo, items, processes, changes)
        _save(uow, order, merchant_orders, records, changes, message_id, clock())
        uow.commit()
    return records


def _lock(
    uow: UnitOfWork, order_id: int, merchant_orders: list[MerchantOrder]
) -> tuple[Order, list[MerchantOrder]]:
    """Packages first, then the order (packaging's order); then read them fresh."""
    ids = sorted(mo.package.id for mo in merchant_orders if mo.package and mo.package.id)
    for package_id in ids:
        uow.packages.get(package_id, lock=True)
    order = uow.orders.get(order_id, lock=True)
    if order is None:
        raise DomainError(f"order id {order_id} vanished")
    return order, uow.merchant_orders.for_order(order_id)


def _processes(uow: UnitOfWork, items: list[MerchantOrderItem]) -> dict[str, Process]:
    processes = {}
    for name in {item.process for item in items}:
        process = uow.merchant_processes.get(name)
        processes[name] = process if process is not None else Process(name, [])
    return processes


def _save(
    uow: UnitOfWork, order: Order, merchant_orders: list[MerchantOrder],
    records: list[MerchantTransitionRecord], changes: Changes, message_id: str | None,
    now: datetime,
) -> None:  # fmt: skip
    for record in records:
        record.message_id, record.order_id, record.at = message_id, order.id, now
    moved = {r.item_reference for r in records if r.outcome.moved}
    if changes.lines_changed:
        settle(order, merchant_orders, changes)
        uow.orders.save_lines(order, list(changes.items.values()), list(changes.expenses.values()))
    # by merchant: each save changes its merchant's reservation rows (keys sorted by merchant
    # first), so every transaction takes reservation rows in one global order (no deadlock)
    for mo in sorted(merchant_orders, key=lambda m: (m.merchant_reference, m.id or 0)):
        items = [i for i in mo.items if i.reference in moved]
        if items or changes.lines_changed:
            uow.merchant_orders.save_changes(mo, items)
    for package in changes.packages.values():
        uow.packages.save_items(package)
    for package_id, status, item_ids in changes.reports:
        report = StatusReport(package_id, status, item_ids, now)
        uow.reports.add(report)
        assert report.id is not None
        uow.outbox.add(OutboxMessage(SendStatusReport(report_id=report.id)))
    uow.merchant_log.add_all(records)
