"""Use cases of the packaging and report stages."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field

from domain.errors import InvalidInput
from domain.message_identity import body_fingerprint, ensure_same_body
from domain.messages import OutboxMessage, SendStatusReport
from domain.model import Order, Package
from domain.omnitron import OmnitronGateway
from domain.packaging import (
    COMPLETE_PACKAGING,
    PackageCommand,
    Shipment,
    StatusReport,
    Transition,
    TransitionRecord,
    pack,
)
from domain.ports import UnitOfWork
from domain.services import Clock, SeenOrder, unseen, utc_now
from domain.shipping import CargoConditions, ShipmentClient, choose_client
from domain.statuses import OrderStatus, PackageStatus


@dataclass(frozen=True)
class CommandResult:
    record: TransitionRecord
    repeated: bool = False  # the same message was handled before: its first outcome
    notes: list[str] = field(default_factory=list)


class _Rejected(Exception):
    def __init__(self, reason: str, package: Package | None = None):
        super().__init__(reason)
        self.reason, self.package = reason, package


def run_package_command(
    command: PackageCommand,
    uow: UnitOfWork,
    clients: dict[str, ShipmentClient],
    message_id: str | None = None,
    clock: Clock = utc_now,
    seen_order: SeenOrder = unseen,
) -> CommandResult:
    """Apply a named transition to a package, or reject it naming the package's state.
    Either way the outcome is logged; a redelivered message returns its first outcome, and a
    message id reused for another command is refused (MessageIdReused, spec 9.3)."""
    digest = None if message_id is None else body_fingerprint(command)
    with uow:
        if message_id is not None:
            previous = uow.transition_log.by_message(message_id)
            if previous is not None:  # a redelivery, unless the id came with another body
                ensure_same_body(message_id, [previous.body_sha256], digest)
                return CommandResult(previous, repeated=True)
        now, notes = clock(), []
        try:
            package, order = _resolve(command, uow)
            seen_order(order.number)
            transition = _transition(command.slug, package, order, uow)
            if command.slug == COMPLETE_PACKAGING:
                notes += _complete_packaging(package, order, uow, clients, clock)
            else:  # a transition added as data: the status moves, nothing else
                package.status = transition.to_status
                for item in package.items:  # cancelled items stay cancelled
                    if item.status is not PackageStatus.cancelled:
                        item.status = transition.to_status
                uow.packages.save_items(package)
            record = TransitionRecord(
                command.slug, command.package_ref, True, "applied", now, package.id,
                transition.from_status, transition.to_status, message_id, digest,
            )  # fmt: skip
        except _Rejected as rejection:
            p = rejection.package  # rejections come before any write
            record = TransitionRecord(
                command.slug, command.package_ref, False, rejection.reason, now,
                p.id if p else None, p.status if p else None, None, message_id, digest,
            )  # fmt: skip
        uow.transition_log.add(record)
        uow.commit()
    return CommandResult(record, notes=notes)


def _resolve(command: PackageCommand, uow: UnitOfWork) -> tuple[Package, Order]:
    package_id = command.package_id
    if package_id is None:
        ids = uow.packages.ids_by_number(command.package_number or "")
        if len(ids) > 1:
            raise _Rejected(f"package number {command.package_number!r} is ambiguous "
                            f"(ids {', '.join(map(str, ids))}); give the package id")  # fmt: skip
        package_id = ids[0] if ids else None
    package = None if package_id is None else uow.packages.get(package_id, lock=True)
    if package is None:
        raise _Rejected(f"package {command.package_ref} does not exist")
    # the order row is locked too: two packages of one order are packed one after the other,
    # each reading the other's committed item statuses
    order = uow.orders.get(package.order_id or 0, lock=True)
    if order is None:
        raise _Rejected(f"package {package.number} has no order", package)
    return package, order


def _transition(slug: str, package: Package, order: Order, uow: UnitOfWork) -> Transition:
    transitions = {t.from_status: t for t in uow.transitions.for_slug(slug)}
    state = f"package {package.number} is {package.status.name}"
    if not transitions:
        raise _Rejected(f"{state}; unknown command slug {slug!r}", package)
    if slug == COMPLETE_PACKAGING and not order.channel.is_marketplace:
        raise _Rejected(
            f"{state}; its order comes from web channel {order.channel.name!r} "
            f"({order.channel.channel_type}), which {slug} does not pack", package,
        )  # fmt: skip
    if package.status not in transitions:
        starts = ", ".join(s.name for s in sorted(transitions))
        raise _Rejected(f"{state}; {slug} runs only from {starts}", package)
    return transitions[package.status]


def _complete_packaging(
    package: Package, order: Order, uow: UnitOfWork, clients: dict[str, ShipmentClient],
    clock: Clock,
) -> list[str]:  # fmt: skip
    """Spec §5's four steps, in the caller's transaction."""
    now = clock()
    cargo = order.cargo_company
    conditions = uow.cargo_conditions.get(cargo.id) if cargo else None
    try:
        client, matched = choose_client(conditions, order.channel, clients)
    except InvalidInput as error:
        state = f"package {package.number} is {package.status.name}"
        raise _Rejected(f"{state}; {error}", package) from None
    items = pack(package, order)
    assert package.id is not None
    uow.shipments.add(
        Shipment(package.id, client.tracking_number(order, items), cargo, client.klass, now)
    )
    uow.packages.save_items(package)
    uow.orders.save_statuses(order, items)
    report = StatusReport(package.id, OrderStatus.preparing, [i.omnitron_id for i in items], now)
    uow.reports.add(report)
    assert report.id is not None
    uow.outbox.add(OutboxMessage(SendStatusReport(report_id=report.id)))
    if matched:
        return []
    return [f"no cargo condition matched channel {order.channel.id}; default {client.klass}"]


def send_status_report(
    report_id: int,
    uow: UnitOfWork,
    omnitron: OmnitronGateway,
    clock: Clock = utc_now,
    seen_order: SeenOrder = unseen,
) -> str:
    """Send one report to Omnitron; mark it sent only after Omnitron accepted it. No database
    transaction is held during the HTTP calls. Returns "sent", "already_sent" (sent before) or
    "superseded" (nothing left to report: the package or Omnitron's items have moved on).

    Before the PATCH, the order is read from Omnitron and 450 is sent only for the items still
    before it there (200..449, or no status known): a retried or replayed 450 never moves
    shipped or cancelled items back. What remains is the race between that read and the PATCH
    (docs/reliability-data.md)."""
    with uow:
        report = uow.reports.get(report_id)
        package = uow.packages.get(report.package_id) if report is not None else None
        order = uow.orders.get(package.order_id) if package and package.order_id else None
    if report is None:
        raise InvalidInput(f"status report {report_id} does not exist")
    if order is not None:
        seen_order(order.number)
    if report.sent_at is not None:
        return "already_sent"
    try:
        statuses = _still_to_report(report, package, order, omnitron)
        if statuses:
            omnitron.update_item_statuses(statuses)
    except Exception as error:
        # the attempt is recorded in its own short transaction, then the error goes on to the
        # worker (retried, or dead-lettered); failing to record it must not hide the error
        with suppress(Exception), uow:
            uow.reports.record_attempt(report_id, clock(), attempt_answer(error))
            uow.commit()
        raise
    answer = f"accepted: {len(statuses)} items" if statuses else "nothing left to report"
    with uow:
        now = clock()
        uow.reports.record_attempt(report_id, now, answer)
        uow.reports.mark_sent(report_id, now)
        uow.commit()
    return "sent" if statuses else "superseded"


def _still_to_report(
    report: StatusReport, package: Package | None, order: Order | None, omnitron: OmnitronGateway
) -> dict[int, str]:
    statuses = report.statuses()
    if report.status is not OrderStatus.preparing:
        return statuses  # a merchant's cancellation or refund (spec 9.4): whatever the package
    if package is not None and package.status == PackageStatus.packed and order is not None:
        known = omnitron.get_order(order.number)
        seen = {item.id: item.status for item in known.items} if known is not None else {}
        return {i: s for i, s in statuses.items() if still_before(seen.get(i), report.status)}
    return {}  # the poll has moved it on (shipped, delivered): a late 450 would move it back


ANSWER_SHOWN = 300


def attempt_answer(error: BaseException) -> str:
    """A failed attempt's answer, short: the error's kind and the first of its text."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= ANSWER_SHOWN else text[: ANSWER_SHOWN - 1] + "…"


def still_before(omnitron_status: str | None, reported: OrderStatus) -> bool:
    """True when Omnitron shows the item in a live state before `reported` (or no status):
    never report over a later status, a cancellation or a code we do not know."""
    if omnitron_status is None:
        return True
    try:
        code = int(omnitron_status)
    except ValueError:
        return False
    return OrderStatus.waiting <= code < reported


def save_cargo_conditions(conditions: CargoConditions, uow: UnitOfWork) -> None:
    """Replace a cargo company's conditions (the seed's POST /cargo-company-conditions/)."""
    with uow:
        uow.cargo_conditions.save(conditions)
        uow.commit()
