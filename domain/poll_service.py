"""Use cases of the status poll: open a cycle, claim due packages into batches, poll a batch."""

from __future__ import annotations

from datetime import datetime

from domain.merchant_events import channel_update
from domain.merchant_oms import Source
from domain.messages import (
    POLL_MESSAGE_MAX_PACKAGES,
    OutboxMessage,
    PollPackages,
    StartPollCycle,
)
from domain.omnitron import OmnitronGateway, OmnitronOrder
from domain.packaging import TransitionRecord
from domain.poll_merchant import fire_for_polled
from domain.polling import POLL_SLUG, BatchResult, PolledPackage, endings, resolve
from domain.ports import UnitOfWork
from domain.services import Clock, utc_now

AUTO_RUN = "AUTO_RUN_SHIP_THE_PACKAGE_COMMAND"


def tick(now: datetime, interval: int, uow: UnitOfWork, enabled_by_default: bool) -> int | None:
    """One scheduler tick: when polling is on, open the cycle of this time bucket and ask for
    it to start. Two schedulers in the same bucket open one cycle. Returns the new cycle.

    A cycle is named by its bucket's start in epoch seconds, so cycle numbers grow with time
    whatever the interval, and a package is due when it was last claimed by an older cycle."""
    cycle = int(now.timestamp()) // interval * interval
    with uow:
        flag = uow.flags.get(AUTO_RUN)
        enabled = enabled_by_default if flag is None else flag == "true"
        if not enabled or not uow.polls.open_cycle(cycle, now):
            return None
        uow.outbox.add(OutboxMessage(StartPollCycle(cycle)))
        uow.commit()
    return cycle


PLANNED_PER_MESSAGE = 20  # batches one planner message claims, in one statement and transaction
# batches (one Omnitron read each) one poll message carries: its packages move in one
# transaction, so a message's fixed costs (the delivery, the transactions, a dozen statements)
# are paid once per two reads (docs/benchmarks.md, issue 12)
BATCHES_PER_MESSAGE = 2


def start_cycle(cycle: int, uow: UnitOfWork, batch_size: int, after: int = 0) -> int:
    """Plan the next part of a cycle: claim the first due packages above package id `after`
    (up to PLANNED_PER_MESSAGE batches of `batch_size`) into poll messages of up to
    BATCHES_PER_MESSAGE batches, and hand the rest of the cycle to a follow-up
    StartPollCycle(cycle, after=the last id claimed), all in one transaction. So no planner
    message runs long (100,000 packages are a hundred short messages, not one that passes the
    actor's time limit), and the first batches are on the queue while the rest are claimed.
    The chain ends at the first message that finds nothing due. A redelivered planner message
    claims nothing twice: each part of a cycle (its cursor) is claimed once. Returns how many
    packages it claimed."""
    with uow:
        ids = uow.polls.claim(cycle, batch_size * PLANNED_PER_MESSAGE, after)
        if ids:  # published first: the planner keeps ahead of its batches
            uow.outbox.add(OutboxMessage(StartPollCycle(cycle, ids[-1])))
        size = batch_size * BATCHES_PER_MESSAGE  # one batch alone when two pass the bound
        size = size if size <= POLL_MESSAGE_MAX_PACKAGES else batch_size
        for start in range(0, len(ids), size):
            uow.outbox.add(OutboxMessage(PollPackages(cycle, tuple(ids[start : start + size]))))
        uow.commit()
    return len(ids)


def poll_packages(
    package_ids: list[int],
    uow: UnitOfWork,
    omnitron: OmnitronGateway,
    clock: Clock = utc_now,
    request_id: str | None = None,
    batch_size: int | None = None,
) -> BatchResult:
    """One Omnitron read per batch of `batch_size` packages (all of them when None; no
    transaction held during the reads), then every forward move in one transaction with its
    transition-log line."""
    with uow:
        packages = uow.polls.load(package_ids)
    found: list[OmnitronOrder] = []
    asked: set[str] = set()
    size = batch_size or len(packages) or 1
    for start in range(0, len(packages), size):
        numbers = sorted({p.order_number for p in packages[start : start + size]} - asked)
        if numbers:  # a later batch does not ask again for an order an earlier one asked for
            asked.update(numbers)
            read = request_id if start == 0 or request_id is None else f"{request_id}-{start}"
            found += omnitron.orders(numbers, request_id=read)
    answers = {order.number: order for order in found}
    ended = _end_items(packages, answers, uow, clock)
    resolutions = [
        resolve(
            p.package_id,
            p.status,
            [i for i in p.item_ids if i not in ended],
            answers.get(p.order_number),
        )
        for p in packages
    ]
    wanted = [r for r in resolutions if r.target is not None]
    moved = []
    if wanted:
        now = clock()
        with uow:
            moved = uow.polls.move(wanted, now)
            # the moved packages' live items take ship/deliver (spec 9.4), orders locked
            fire_for_polled(uow, {r.package_id: r.target for r in moved if r.target}, now)
            by_id = {p.package_id: p for p in packages}
            uow.transition_log.add_all(
                [
                    TransitionRecord(
                        POLL_SLUG,
                        by_id[r.package_id].package_number or str(r.package_id),
                        True,
                        r.reason,
                        now,
                        r.package_id,
                        by_id[r.package_id].status,
                        r.target,
                    )
                    for r in moved
                ]
            )
            uow.commit()
    unknown = sorted({p.order_number for p in packages if p.order_number not in answers})
    malformed = sorted((o.number, o.problem) for o in found if o.problem is not None)
    return BatchResult(
        len(packages), moved, unknown, malformed, {p.package_id: p for p in packages}, len(ended)
    )


def _end_items(
    packages: list[PolledPackage], answers: dict[str, OmnitronOrder], uow: UnitOfWork,
    clock: Clock,
) -> set[int]:  # fmt: skip
    """Live items that Omnitron shows cancelled (100) or refunded (600) take `cancel`
    (`refund`), source poll, exactly as a re-sent order's would: one transaction per order,
    before the moves. Returns their Omnitron ids (they no longer decide their package's move).
    A redelivered message loads only the items still live, so nothing ends twice."""
    by_order: dict[int, dict[int, str]] = {}
    for package in packages:
        events = endings(package.item_ids, answers.get(package.order_number))
        if events:
            by_order.setdefault(package.order_id, {}).update(events)
    for order_id, events in sorted(by_order.items()):
        channel_update(order_id, events, uow, None, clock, source=Source.poll)
    return {item_id for events in by_order.values() for item_id in events}


def set_auto_run(enabled: bool, uow: UnitOfWork) -> None:
    with uow:
        uow.flags.set(AUTO_RUN, "true" if enabled else "false")
        uow.commit()


def auto_run(uow: UnitOfWork, default: bool) -> bool:
    with uow:
        flag = uow.flags.get(AUTO_RUN)
    return default if flag is None else flag == "true"


def open_cycle_now(cycle: int, uow: UnitOfWork, clock: Clock = utc_now) -> None:
    """Start a cycle by hand (operators, tests), whatever the flag."""
    with uow:
        if uow.polls.open_cycle(cycle, clock()):
            uow.outbox.add(OutboxMessage(StartPollCycle(cycle)))
        uow.commit()
