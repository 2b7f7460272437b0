"""The packing half of `oms demo`: pack every package, wait for the reports to reach the Omnitron
simulator, and count the outcomes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import dramatiq
from sqlalchemy import Engine, func, select

from adapters.messaging.publisher import PACKAGING, publish
from adapters.persistence import tables as t
from cli.package import command_body


def pack_all(broker: dramatiq.Broker, views: list[dict[str, Any]]) -> list[str]:
    """One CHANNEL_BASED_COMPLETE_PACKAGING command per package; returns the message ids."""
    ids = []
    for view in views:
        for package in view["packages"]:
            message_id = str(uuid.uuid4())
            body = command_body(str(package["id"]), "CHANNEL_BASED_COMPLETE_PACKAGING")
            publish(broker, *PACKAGING, body, message_id=message_id)
            ids.append(message_id)
    return ids


def wait_for_reports(engine: Engine, message_ids: list[str], timeout: float = 120) -> int:
    """Wait until every command is logged and every report it created was accepted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            logged = connection.execute(
                select(func.count())
                .select_from(t.transition_log)
                .where(t.transition_log.c.message_id.in_(message_ids))
            ).scalar_one()
            applied = select(t.transition_log.c.package_id).where(
                t.transition_log.c.message_id.in_(message_ids),
                t.transition_log.c.outcome == "applied",
            )
            unsent = connection.execute(
                select(func.count())
                .select_from(t.status_reports)
                .where(
                    t.status_reports.c.package_id.in_(applied), t.status_reports.c.sent_at.is_(None)
                )
            ).scalar_one()
        if logged >= len(message_ids) and unsent == 0:
            return logged
        time.sleep(0.1)
    raise TimeoutError(f"packing and reports did not finish within {timeout:.0f} s")


def outcome_counts(engine: Engine, message_ids: list[str]) -> tuple[str, str | None]:
    """The commands' outcomes counted ("applied 15, rejected 2"), and the first rejection's
    reason."""
    log = t.transition_log
    with engine.connect() as connection:
        rows = connection.execute(
            select(log.c.outcome, func.count())
            .where(log.c.message_id.in_(message_ids))
            .group_by(log.c.outcome)
            .order_by(log.c.outcome)
        ).all()
        refused = connection.execute(
            select(log.c.reason)
            .where(log.c.message_id.in_(message_ids), log.c.outcome != "applied")
            .order_by(log.c.id)
            .limit(1)
        ).scalar_one_or_none()
    return ", ".join(f"{outcome} {n}" for outcome, n in rows), refused
