"""Packages as operators see them: `oms packages list`, the bulk `oms package command --status`
and (later) the HTTP API read them through these queries. Statuses are shown as the table holds
them: a code this version has no name for is shown as its number, never dropped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from domain.model import WEB_CHANNEL_TYPES
from domain.statuses import PackageStatus

OUTCOME_CHUNK = 1000  # message ids per IN (...) when reading command outcomes


@dataclass(frozen=True)
class PackageRow:
    id: int
    number: str
    order_number: str
    channel_id: int
    channel_name: str
    channel_type: str
    merchant_reference: str
    status_code: int
    created_at: datetime
    updated_at: datetime

    @property
    def status(self) -> str:
        return status_name(self.status_code)

    @property
    def web_channel(self) -> bool:
        return self.channel_type.lower() in WEB_CHANNEL_TYPES

    def age_seconds(self, now: datetime) -> int:
        return max(0, int((now - _aware(self.created_at)).total_seconds()))

    def document(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "order_number": self.order_number,
            "channel": {
                "id": self.channel_id,
                "name": self.channel_name,
                "channel_type": self.channel_type,
            },
            "merchant_reference": self.merchant_reference,
            "status": self.status,
            "status_code": self.status_code,
            "created_at": _aware(self.created_at).isoformat(),
            "updated_at": _aware(self.updated_at).isoformat(),
            "age_seconds": self.age_seconds(now),
        }


def status_name(code: int) -> str:
    try:
        return PackageStatus(code).name
    except ValueError:
        return str(code)


def status_code(text: str) -> int:
    """A package status given by name (`waiting`) or code (`100`)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        return int(PackageStatus[text.lower()])
    except KeyError:
        known = ", ".join(f"{s.name} ({s.value})" for s in PackageStatus)
        raise ValueError(f"unknown package status {text!r} (known: {known})") from None


def list_packages(
    engine: Engine,
    *,
    status: int | None = None,
    channel_id: int | None = None,
    after_id: int = 0,
    limit: int | None = None,
) -> list[PackageRow]:
    """Packages with their order, channel and merchant, oldest first (by id); `after_id` and
    `limit` page through them."""
    query = (
        select(
            t.packages.c.id,
            t.packages.c.number,
            t.orders.c.number.label("order_number"),
            t.channels.c.id.label("channel_id"),
            t.channels.c.name.label("channel_name"),
            t.channels.c.channel_type,
            t.merchant_orders.c.merchant_reference,
            t.packages.c.status.label("status_code"),
            t.packages.c.created_at,
            t.packages.c.updated_at,
        )
        .select_from(
            t.packages.join(
                t.merchant_orders, t.merchant_orders.c.id == t.packages.c.merchant_order_id
            )
            .join(t.orders, t.orders.c.id == t.packages.c.order_id)
            .join(t.channels, t.channels.c.id == t.packages.c.channel_id)
        )
        .where(t.packages.c.id > after_id)
        .order_by(t.packages.c.id)
    )
    if status is not None:
        query = query.where(t.packages.c.status == status)
    if channel_id is not None:
        query = query.where(t.packages.c.channel_id == channel_id)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        return [PackageRow(**row._asdict()) for row in connection.execute(query)]


@dataclass(frozen=True)
class CommandOutcome:
    outcome: str  # "applied" or "rejected"
    reason: str
    from_status: int | None = None
    dead_lettered: bool = False


def command_outcomes(engine: Engine, message_ids: Iterable[str]) -> dict[str, CommandOutcome]:
    """The outcome of each packaging command message that has one: its transition log row, or
    its dead letter (a body the worker could not read). Ids not in the result have none yet."""
    wanted = list(message_ids)
    found: dict[str, CommandOutcome] = {}
    with engine.connect() as connection:
        for start in range(0, len(wanted), OUTCOME_CHUNK):
            chunk = wanted[start : start + OUTCOME_CHUNK]
            log = t.transition_log.c
            for row in connection.execute(
                select(log.message_id, log.outcome, log.reason, log.from_status).where(
                    log.message_id.in_(chunk)
                )
            ):
                found[row.message_id] = CommandOutcome(row.outcome, row.reason, row.from_status)
            dead = t.dead_letters.c
            letters = select(dead.message_id, dead.reason).where(dead.message_id.in_(chunk))
            for message_id, reason in connection.execute(letters):
                found.setdefault(message_id, CommandOutcome("rejected", reason, dead_lettered=True))
    return found


def _aware(moment: datetime) -> datetime:
    """SQLite gives timestamps back without their offset; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def count_packages(engine: Engine, *, status: int | None, channel_id: int | None) -> int:
    """How many packages `list_packages` would list with these filters (one indexed count)."""
    query = select(func.count()).select_from(t.packages)
    if status is not None:
        query = query.where(t.packages.c.status == status)
    if channel_id is not None:
        query = query.where(t.packages.c.channel_id == channel_id)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def slugs_from(engine: Engine, status: int) -> list[str]:
    """The packaging commands (slugs) that start from this status."""
    query = select(t.transitions.c.slug).where(t.transitions.c.from_status == status).distinct()
    with engine.connect() as connection:
        return sorted(connection.execute(query).scalars())
