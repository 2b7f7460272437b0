"""SQLAlchemy Core repositories of the packaging stage: packages, transitions and their log,
shipments, cargo conditions and status reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.persistence import tables as t
from adapters.persistence.bulk import insert_rows
from adapters.persistence.keys import message_key
from domain import ports
from domain.model import CargoCompany, Package, PackageItem
from domain.packaging import Shipment, StatusReport, Transition, TransitionRecord
from domain.shipping import CargoConditions, ChannelRule
from domain.statuses import OrderStatus, PackageStatus

SELECT_PACKAGE = select(t.packages).where(t.packages.c.id == bindparam("package_id"))
SELECT_PACKAGE_ITEMS = (
    select(t.package_items, t.order_items.c.omnitron_id)
    .join(t.order_items, t.order_items.c.id == t.package_items.c.order_item_id)
    .where(t.package_items.c.package_id == bindparam("package_id"))
    .order_by(t.package_items.c.id)
)
UPDATE_PACKAGE = (
    update(t.packages)
    .where(t.packages.c.id == bindparam("b_package_id"))
    .values(status=bindparam("new_status"), updated_at=bindparam("now"))
)
UPDATE_PACKAGE_ITEMS = (
    update(t.package_items)
    .where(t.package_items.c.package_id == bindparam("b_package_id"))
    .values(status=bindparam("new_status"))
)
UPDATE_PACKAGE_ITEM = (
    update(t.package_items)
    .where(t.package_items.c.id == bindparam("b_item_id"))
    .values(status=bindparam("new_status"))
)
# a shipment follows its package (as the poll moves them), e.g. when the channel cancels a
# packed package's last item and the warehouse unpacks it
UPDATE_SHIPMENT = (
    update(t.shipments)
    .where(
        t.shipments.c.package_id == bindparam("b_package_id"),
        t.shipments.c.status != bindparam("new_status"),
    )
    .values(status=bindparam("new_status"), updated_at=bindparam("now"))
)


class SqlTransitionRepository(ports.TransitionRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def for_slug(self, slug: str) -> list[Transition]:
        rows = self.connection.execute(select(t.transitions).where(t.transitions.c.slug == slug))
        return [
            Transition(r.slug, PackageStatus(r.from_status), PackageStatus(r.to_status))
            for r in rows
        ]


def _status(code: int | None) -> PackageStatus | None:
    return None if code is None else PackageStatus(code)


class SqlTransitionLog(ports.TransitionLog):
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, record: TransitionRecord) -> None:
        self.add_all([record])

    def add_all(self, records: list[TransitionRecord]) -> None:
        if not records:
            return
        insert_rows(
            self.connection,
            t.transition_log,
            [
                {
                    "package_id": record.package_id,
                    "package_ref": record.package_ref,
                    "slug": record.slug,
                    "from_status": record.from_status,
                    "to_status": record.to_status,
                    "outcome": record.outcome,
                    "reason": record.reason,
                    "message_id": None
                    if record.message_id is None
                    else message_key(record.message_id),
                    "created_at": record.at,
                    "body_sha256": record.body_sha256,
                }
                for record in records
            ],
        )

    def by_message(self, message_id: str) -> TransitionRecord | None:
        row = self.connection.execute(
            select(t.transition_log).where(t.transition_log.c.message_id == message_key(message_id))
        ).first()
        if row is None:
            return None
        return TransitionRecord(
            slug=row.slug,
            package_ref=row.package_ref,
            applied=row.outcome == "applied",
            reason=row.reason,
            at=row.created_at,
            package_id=row.package_id,
            from_status=_status(row.from_status),
            to_status=_status(row.to_status),
            message_id=row.message_id,
            body_sha256=row.body_sha256,
        )


class SqlPackageRepository(ports.PackageRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def get(self, package_id: int, *, lock: bool = False) -> Package | None:
        query = SELECT_PACKAGE.with_for_update() if lock else SELECT_PACKAGE
        row = self.connection.execute(query, {"package_id": package_id}).first()
        if row is None:
            return None
        items = self.connection.execute(SELECT_PACKAGE_ITEMS, {"package_id": package_id})
        return Package(
            id=row.id,
            number=row.number,
            channel_id=row.channel_id,
            order_id=row.order_id,
            status=PackageStatus(row.status),
            created_at=row.created_at,
            items=[
                PackageItem(
                    id=i.id,
                    order_item_id=i.order_item_id,
                    omnitron_item_id=i.omnitron_id,
                    quantity=i.quantity,
                    status=PackageStatus(i.status),
                )
                for i in items
            ],
        )

    def ids_by_number(self, number: str) -> list[int]:
        query = select(t.packages.c.id).where(t.packages.c.number == number).order_by("id")
        return list(self.connection.execute(query).scalars())

    def save_status(self, package: Package) -> None:
        params = {"b_package_id": package.id, "new_status": int(package.status)}
        self.connection.execute(UPDATE_PACKAGE, {**params, "now": datetime.now().astimezone()})
        self.connection.execute(UPDATE_PACKAGE_ITEMS, params)

    def save_items(self, package: Package) -> None:
        now = datetime.now().astimezone()
        params = {"b_package_id": package.id, "new_status": int(package.status), "now": now}
        self.connection.execute(UPDATE_PACKAGE, params)
        self.connection.execute(UPDATE_SHIPMENT, params)
        self.connection.execute(
            UPDATE_PACKAGE_ITEM,
            [{"b_item_id": i.id, "new_status": int(i.status)} for i in package.items],
        )


class SqlShipmentRepository(ports.ShipmentRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, shipment: Shipment) -> None:
        cargo = shipment.cargo_company
        shipment.id = self.connection.execute(
            insert(t.shipments).returning(t.shipments.c.id),
            {
                "package_id": shipment.package_id,
                "tracking_number": shipment.tracking_number,
                "cargo_company": vars(cargo) if cargo else None,
                "client": shipment.client,
                "status": int(shipment.status),
                "created_at": shipment.created_at,
                "updated_at": shipment.created_at,
            },
        ).scalar_one()

    def for_packages(self, package_ids: list[int]) -> dict[int, Shipment]:
        rows = self.connection.execute(
            select(t.shipments).where(t.shipments.c.package_id.in_(package_ids))
        )
        return {
            r.package_id: Shipment(
                id=r.id,
                package_id=r.package_id,
                tracking_number=r.tracking_number,
                cargo_company=CargoCompany(**r.cargo_company) if r.cargo_company else None,
                client=r.client,
                created_at=r.created_at,
                status=PackageStatus(r.status),
            )
            for r in rows
        }


class SqlCargoConditionRepository(ports.CargoConditionRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def get(self, cargo_company_id: int) -> CargoConditions | None:
        row = self.connection.execute(
            select(t.cargo_conditions).where(
                t.cargo_conditions.c.cargo_company_id == cargo_company_id
            )
        ).first()
        if row is None:
            return None
        rules = tuple(ChannelRule(frozenset(r["channels"]), r["client"]) for r in row.rules)
        return CargoConditions(cargo_company_id, rules)

    def save(self, conditions: CargoConditions) -> None:
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        rules: list[dict[str, Any]] = [
            {"channels": sorted(rule.channels), "client": rule.client} for rule in conditions.rules
        ]
        statement = dialect.insert(t.cargo_conditions).values(
            cargo_company_id=conditions.cargo_company_id,
            rules=rules,
            updated_at=datetime.now().astimezone(),
        )
        self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=["cargo_company_id"],
                set_={
                    "rules": statement.excluded.rules,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )


class SqlReportRepository(ports.ReportRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, report: StatusReport) -> None:
        report.id = self.connection.execute(
            insert(t.status_reports).returning(t.status_reports.c.id),
            {
                "package_id": report.package_id,
                "status": int(report.status),
                "item_ids": sorted(report.item_ids),
                "created_at": report.created_at,
            },
        ).scalar_one()

    def get(self, report_id: int) -> StatusReport | None:
        row = self.connection.execute(
            select(t.status_reports).where(t.status_reports.c.id == report_id)
        ).first()
        if row is None:
            return None
        return StatusReport(
            id=row.id,
            package_id=row.package_id,
            status=OrderStatus(row.status),
            item_ids=list(row.item_ids),
            created_at=row.created_at,
            sent_at=row.sent_at,
        )

    def mark_sent(self, report_id: int, when: datetime) -> None:
        self.connection.execute(
            update(t.status_reports)
            .where(t.status_reports.c.id == report_id, t.status_reports.c.sent_at.is_(None))
            .values(sent_at=when)
        )

    def record_attempt(self, report_id: int, when: datetime, answer: str) -> None:
        self.connection.execute(
            update(t.status_reports)
            .where(t.status_reports.c.id == report_id)
            .values(
                attempts=t.status_reports.c.attempts + 1, last_attempt_at=when, last_answer=answer
            )
        )
