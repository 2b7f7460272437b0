"""Packaging commands on a real database: transitions as data, rejections that name the state,
shipments with the tracking-number rule, cargo conditions, the report record and its outbox row."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from adapters.persistence import tables as t
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.shipping.omnitron_shipment_client import shipment_clients
from domain import services
from domain.package_commands import CommandResult, run_package_command, save_cargo_conditions
from domain.packaging import COMPLETE_PACKAGING, PackageCommand
from domain.statuses import PackageStatus
from schemas.cargo_conditions import parse_cargo_conditions
from schemas.convert import parse_inbound_order
from schemas.errors import InvalidMessage

ROOT = Path(__file__).resolve().parents[2]


def stored_order(engine: Engine, **changes: Any) -> list[int]:
    """Ingest and split a copy of the two-merchant example; returns its package ids."""
    body = json.loads((ROOT / "docs/examples/order-two-merchants.json").read_text())
    body["number"] = f"PK-{uuid.uuid4().hex[:8]}"
    base = uuid.uuid4().int % 10**12
    for offset, item in enumerate(body["items"]):
        item["id"] = base + offset
    items = changes.pop("items", {})
    for index, fields in items.items():
        body["items"][index].update(fields)
    body.update(changes)
    order_id = services.ingest_order(parse_inbound_order(body, "MAIN"), SqlUnitOfWork(engine))
    assert order_id.order_id is not None
    split = services.split_order(order_id.order_id, SqlUnitOfWork(engine))
    return [mo.package.id for mo in split.merchant_orders if mo.package.id is not None]


def command(
    engine: Engine, package_id: int, slug: str = COMPLETE_PACKAGING, message_id: str | None = None
) -> CommandResult:
    return run_package_command(
        PackageCommand(slug, package_id=package_id),
        SqlUnitOfWork(engine),
        shipment_clients(),
        message_id=message_id,
    )


def set_status(engine: Engine, package_id: int, status: PackageStatus) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(t.packages).where(t.packages.c.id == package_id).values(status=int(status))
        )


def counts(engine: Engine, package_id: int) -> tuple[int, int, int, int]:
    with engine.connect() as c:
        package = c.execute(select(t.packages.c.status).where(t.packages.c.id == package_id))
        shipments = select(func.count()).where(t.shipments.c.package_id == package_id)
        reports = select(func.count()).where(t.status_reports.c.package_id == package_id)
        logs = select(func.count()).where(t.transition_log.c.package_id == package_id)
        return (
            package.scalar_one(),
            c.execute(shipments).scalar_one(),
            c.execute(reports).scalar_one(),
            c.execute(logs).scalar_one(),
        )


@pytest.mark.parametrize(
    "start", [PackageStatus.waiting, PackageStatus.preparing, PackageStatus.ready_to_pack]
)
def test_packs_from_each_start_state(engine: Engine, start: PackageStatus) -> None:
    package_id = stored_order(engine)[0]
    set_status(engine, package_id, start)
    result = command(engine, package_id)
    assert result.record.applied
    assert (result.record.from_status, result.record.to_status) == (start, PackageStatus.packed)
    assert counts(engine, package_id) == (500, 1, 1, 1)
    with engine.connect() as c:
        items = c.execute(
            select(t.package_items.c.status).where(t.package_items.c.package_id == package_id)
        ).scalars()
        assert set(items) == {500}
        report = c.execute(
            select(t.status_reports).where(t.status_reports.c.package_id == package_id)
        ).one()
        assert report.status == 450 and report.sent_at is None
        outbox = c.execute(
            select(t.outbox.c.payload).where(t.outbox.c.command == "send_status_report")
        )
        assert {"report_id": report.id} in list(outbox.scalars())
        order_items = c.execute(
            select(t.order_items.c.status).where(t.order_items.c.omnitron_id.in_(report.item_ids))
        ).scalars()
        assert set(order_items) == {450}


@pytest.mark.parametrize(
    "state", [PackageStatus.packed, PackageStatus.shipped, PackageStatus.delivered]
)
def test_rejects_from_packed_and_later_naming_the_state_and_changes_nothing(
    engine: Engine, state: PackageStatus
) -> None:
    package_id = stored_order(engine)[0]
    set_status(engine, package_id, state)
    result = command(engine, package_id)
    assert not result.record.applied
    assert f"is {state.name}" in result.record.reason
    assert "runs only from waiting, preparing, ready_to_pack" in result.record.reason
    assert counts(engine, package_id) == (int(state), 0, 0, 1)  # only the log line


def test_unknown_slug_unknown_package_and_web_channel_are_rejected(engine: Engine) -> None:
    package_id = stored_order(engine)[0]
    unknown = command(engine, package_id, slug="NOT_A_SLUG")
    assert (
        not unknown.record.applied and "is waiting; unknown command slug" in unknown.record.reason
    )
    missing = command(engine, 10**9)
    assert not missing.record.applied and "does not exist" in missing.record.reason
    web = stored_order(engine, channel={"id": 50, "name": "Web store", "channel_type": "web"})[0]
    rejected = command(engine, web)
    assert not rejected.record.applied and "is waiting; its order comes from web channel" in (
        rejected.record.reason
    )
    assert counts(engine, web)[:3] == (100, 0, 0)


def test_the_same_message_twice_changes_nothing_and_a_new_one_is_rejected(engine: Engine) -> None:
    package_id = stored_order(engine)[0]
    first = command(engine, package_id, message_id="msg-" + uuid.uuid4().hex)
    again = command(engine, package_id, message_id=first.record.message_id)
    assert first.record.applied and again.repeated and again.record.applied
    assert counts(engine, package_id) == (500, 1, 1, 1)
    second = command(engine, package_id, message_id="msg-" + uuid.uuid4().hex)
    assert not second.record.applied and "is packed" in second.record.reason
    assert counts(engine, package_id) == (500, 1, 1, 2)


def tracking(engine: Engine, package_id: int) -> str | None:
    command(engine, package_id)
    with engine.connect() as c:
        return c.execute(
            select(t.shipments.c.tracking_number).where(t.shipments.c.package_id == package_id)
        ).scalar_one()


def test_tracking_number_is_the_items_own_when_all_agree_else_the_orders(engine: Engine) -> None:
    same = stored_order(
        engine, items={0: {"tracking_number": "OWN-1"}, 1: {"tracking_number": "OWN-1"}}
    )
    assert tracking(engine, same[0]) == "OWN-1"
    mixed = stored_order(
        engine, items={0: {"tracking_number": "OWN-1"}, 1: {"tracking_number": "OWN-2"}}
    )
    assert tracking(engine, mixed[0]) == "7330012345"
    partly = stored_order(engine, items={0: {"tracking_number": "OWN-1"}})
    assert tracking(engine, partly[0]) == "7330012345"


def test_cargo_conditions_route_channel_orders_and_bad_rules_are_refused(engine: Engine) -> None:
    body = json.loads((ROOT / "docs/examples/cargo-company-condition.json").read_text())
    save_cargo_conditions(parse_cargo_conditions(body), SqlUnitOfWork(engine))
    routed = command(engine, stored_order(engine)[0])
    assert routed.record.applied and routed.notes == []  # channel 42 matched the rule
    other = stored_order(
        engine, channel={"id": 43, "name": "Hepsiburada", "channel_type": "hepsiburada"}
    )
    defaulted = command(engine, other[0])
    assert (
        defaulted.record.applied and "no cargo condition matched channel 43" in defaulted.notes[0]
    )

    bad_klass = json.loads(json.dumps(body))
    bad_klass["rules_configuration"]["rules"][0]["klass"] = "oms.Nope"
    with pytest.raises(InvalidMessage, match=r"rules\[0\].klass: unknown condition 'oms.Nope'"):
        parse_cargo_conditions(bad_klass)
    bad_client = json.loads(json.dumps(body))
    bad_client["rules_configuration"]["rules"][0]["params"]["conf"]["klass"] = "x.Carrier"
    with pytest.raises(InvalidMessage, match=r"params.conf.klass: unknown shipment client"):
        parse_cargo_conditions(bad_client)
    bad_params = json.loads(json.dumps(body))
    bad_params["rules_configuration"]["rules"][0]["params"]["channels"] = "42"
    with pytest.raises(InvalidMessage, match=r"params.channels"):
        parse_cargo_conditions(bad_params)
