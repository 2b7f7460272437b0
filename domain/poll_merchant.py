"""The merchant side of a poll batch (spec 9.4) in a few statements: the moved packages' live
merchant order items take `ship` (shipped), or `ship` if they still can and then `deliver`
(delivered), source poll: applied when the item's state has the event, else forced to its
target (the carrier is the source of truth). On a marketplace channel these events move the
items' states only (no guard refuses the poll's events, no line changes:
domain/merchant_effects.py), so a whole batch's items are read in one statement and written in
one per new state; packages of a web channel, which the poll does not claim, take the general
path (merchant_events)."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from domain.merchant_effects import DELIVER, SHIP
from domain.merchant_events import fire_for_packages
from domain.merchant_oms import MerchantTransitionRecord, Process, Source
from domain.polling import PolledMerchantItem
from domain.ports import UnitOfWork
from domain.statuses import PackageStatus

EVENTS = {PackageStatus.shipped: [SHIP], PackageStatus.delivered: [DELIVER]}


def fire_for_polled(
    uow: UnitOfWork, moves: dict[int, PackageStatus], now: datetime
) -> list[MerchantTransitionRecord]:
    """What `fire_for_packages` does for these moves, batched. Runs in the poll's transaction,
    after `polls.move` locked the packages and their orders."""
    rows = uow.polls.merchant_items(sorted(moves))
    web = {r.package_id for r in rows if not r.marketplace}
    records = fire_for_packages(uow, {p: moves[p] for p in sorted(web)}, now) if web else []
    mine = [r for r in rows if r.marketplace]
    processes = {
        name: uow.merchant_processes.get(name) or Process(name, [])
        for name in sorted({r.item.process for r in mine})
    }
    states: dict[int, str] = {}
    batch: list[MerchantTransitionRecord] = []
    ordered = sorted(mine, key=lambda r: (r.order_id, r.package_id, r.item.id or 0))
    for _, group in groupby(ordered, key=lambda r: r.package_id):
        items = list(group)  # one package's items: every `ship` first, then every `deliver`
        target = moves[items[0].package_id]
        steps = [
            (SHIP, row)
            for row in items
            if target is PackageStatus.delivered
            and processes[row.item.process].has(row.item.state, SHIP)
        ]
        steps += [(event, row) for event in EVENTS.get(target, []) for row in items]
        for event, row in steps:
            record = _event(event, row, processes[row.item.process], now)
            if record.outcome.moved:
                states[row.item.id or 0] = row.item.state
            batch.append(record)
    uow.polls.save_merchant_states(states)
    uow.merchant_log.add_all(batch)
    return records + batch


def _event(
    event: str, row: PolledMerchantItem, process: Process, now: datetime
) -> MerchantTransitionRecord:
    """Decide one event on one item and move its state when it applies."""
    item = row.item
    decision = process.decide(item.state, event, Source.poll)
    if decision.outcome.moved and decision.to_state:
        item.state = decision.to_state
    record = MerchantTransitionRecord(
        item.reference,
        row.merchant_order_reference,
        event,
        Source.poll,
        decision.outcome,
        decision.from_state,
        decision.to_state,
        decision.reason,
    )
    record.order_id, record.at = row.order_id, now
    return record
