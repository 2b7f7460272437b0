"""Paged lists for the HTTP API (order summaries, dead letters): one count and one page query,
newest first, filters applied to both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, select

from adapters.persistence import tables as t
from domain.model import TOTAL_NAMES
from domain.statuses import OrderStatus


@dataclass(frozen=True)
class Page:
    count: int
    rows: list[dict[str, Any]]


def _page(engine: Engine, query: Select[Any], offset: int, limit: int) -> tuple[int, list[Any]]:
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    with engine.connect() as connection:
        count = int(connection.execute(counted).scalar_one())
        rows = list(connection.execute(query.offset(offset).limit(limit))) if count else []
    return count, rows


def order_summaries(
    engine: Engine,
    *,
    channel_id: int | None = None,
    status: int | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    offset: int = 0,
    limit: int = 20,
) -> Page:
    """Orders as received (created_at is when the pipeline stored them), newest first."""
    o, ch = t.orders.c, t.channels.c
    where: list[ColumnElement[bool]] = []
    if channel_id is not None:
        where.append(o.channel_id == channel_id)
    if status is not None:
        where.append(o.status == status)
    if created_from is not None:
        where.append(o.received_at >= created_from)
    if created_to is not None:
        where.append(o.received_at < created_to)
    query = (
        select(
            o.id,
            o.number,
            o.status,
            o.currency,
            o.date_placed,
            o.received_at,
            o.split,
            ch.id.label("channel_id"),
            ch.name.label("channel_name"),
            ch.channel_type,
            *(o[name] for name in TOTAL_NAMES),
        )
        .select_from(t.orders.join(t.channels))
        .where(*where)
        .order_by(o.id.desc())
    )
    count, rows = _page(engine, query, offset, limit)
    return Page(count, [_summary(row) for row in rows])


def channel_exists(engine: Engine, channel_id: int) -> bool:
    """Whether the pipeline has seen the channel (it is stored with its first order)."""
    with engine.connect() as connection:
        found = connection.execute(select(t.channels.c.id).where(t.channels.c.id == channel_id))
        return found.first() is not None


def _summary(row: Any) -> dict[str, Any]:
    status = OrderStatus(row.status)
    return {
        "id": row.id,
        "number": row.number,
        "channel": {
            "id": row.channel_id,
            "name": row.channel_name,
            "channel_type": row.channel_type,
        },
        "status": status.name,
        "status_code": int(status),
        "currency": row.currency,
        "date_placed": row.date_placed.isoformat(),
        "created_at": row.received_at.isoformat(),
        "split": bool(row.split),
        "totals": {name: getattr(row, name) for name in TOTAL_NAMES},
    }


def dead_letter_page(
    engine: Engine, queue_name: str | None = None, *, offset: int = 0, limit: int = 20
) -> Page:
    """Dead letters (newest first) as `oms dlq list --json` summarises them."""
    d = t.dead_letters.c
    query = select(
        d.id, d.message_id, d.queue_name, d.actor_name, d.order_number, d.order_channel_id,
        d.reason, d.failures, d.first_failed_at, d.last_failed_at, d.replayed_at,
    ).order_by(d.id.desc())  # fmt: skip
    if queue_name is not None:
        query = query.where(d.queue_name == queue_name)
    count, rows = _page(engine, query, offset, limit)
    return Page(count, [_letter(row) for row in rows])


def _letter(row: Any) -> dict[str, Any]:
    letter = dict(row._mapping)
    for key in ("first_failed_at", "last_failed_at", "replayed_at"):
        if letter[key] is not None:
            letter[key] = letter[key].isoformat()
    return letter
