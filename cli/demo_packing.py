"""The packing half of `oms demo`: pack every marketplace package, wait for the reports to reach
the Omnitron simulator, and show them."""

from __future__ import annotations

import time
import uuid
from typing import Any

import dramatiq
from sqlalchemy import Engine, func, select

from adapters.messaging.publisher import PACKAGING, publish
from adapters.persistence import tables as t
from cli.package import command_body
from cli.table import format_rows


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


def outcomes_table(engine: Engine, message_ids: list[str]) -> str:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                t.transition_log.c.package_ref,
                t.transition_log.c.outcome,
                t.transition_log.c.reason,
                t.packages.c.number,
                t.shipments.c.tracking_number,
            )
            .outerjoin(t.packages, t.packages.c.id == t.transition_log.c.package_id)
            .outerjoin(t.shipments, t.shipments.c.package_id == t.packages.c.id)
            .where(t.transition_log.c.message_id.in_(message_ids))
            .order_by(t.transition_log.c.id)
        ).all()
    table = [["package", "outcome", "tracking number / reason"]]
    for row in rows:
        detail = row.tracking_number if row.outcome == "applied" else row.reason
        table.append([row.number or row.package_ref, row.outcome, detail or ""])
    return format_rows(table)


def reports_table(requests: list[dict[str, Any]]) -> str:
    table = [["Omnitron request", "answer", "items"]]
    for request in requests:
        if request["method"] == "PATCH" and "bulk_status_update" in request["path"]:
            items = (request.get("body") or {}).get("orderitem_set", [])
            statuses = sorted({i["status"] for i in items})
            table.append(
                [
                    f"PATCH {request['path']}",
                    str(request["status"]),
                    f"{len(items)} items -> {','.join(statuses)}",
                ]
            )
    return format_rows(table)
