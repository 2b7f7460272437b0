"""SQLAlchemy Core repositories for what the split writes (merchant orders with their packages
and package items) and for the outbox."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from adapters.persistence import tables as t
from adapters.persistence.codec import totals_from
from adapters.persistence.repositories import now
from domain import ports
from domain.messages import OutboxMessage
from domain.model import MerchantOrder, Package, PackageItem
from domain.statuses import PackageStatus

INSERT_OUTBOX = insert(t.outbox)
INSERT_MERCHANT_ORDERS = insert(t.merchant_orders).returning(
    t.merchant_orders.c.id, sort_by_parameter_order=True
)
INSERT_PACKAGES = insert(t.packages).returning(t.packages.c.id, sort_by_parameter_order=True)
INSERT_PACKAGE_ITEMS = insert(t.package_items)


class SqlMerchantOrderRepository(ports.MerchantOrderRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, merchant_order: MerchantOrder) -> None:
        self.add_all([merchant_order])

    def add_all(self, merchant_orders: list[MerchantOrder]) -> None:
        """Three statements however many merchants: merchant orders, packages, package items."""
        if not merchant_orders:
            return
        created = [mo.package.created_at or now() for mo in merchant_orders]
        ids = (
            self.connection.execute(
                INSERT_MERCHANT_ORDERS,
                [
                    {
                        "order_id": mo.order_id,
                        "channel_id": mo.channel_id,
                        "reference": mo.reference,
                        "merchant_reference": mo.merchant_reference,
                        **mo.totals.as_dict(),
                        "created_at": when,
                    }
                    for mo, when in zip(merchant_orders, created, strict=True)
                ],
            )
            .scalars()
            .all()
        )
        for mo, mo_id in zip(merchant_orders, ids, strict=True):
            mo.id = mo_id
        package_ids = (
            self.connection.execute(
                INSERT_PACKAGES,
                [
                    {
                        "merchant_order_id": mo.id,
                        "order_id": mo.order_id,
                        "channel_id": mo.channel_id,
                        "number": mo.package.number,
                        "status": int(mo.package.status),
                        "created_at": when,
                        "updated_at": when,
                    }
                    for mo, when in zip(merchant_orders, created, strict=True)
                ],
            )
            .scalars()
            .all()
        )
        for mo, package_id in zip(merchant_orders, package_ids, strict=True):
            mo.package.id = package_id
        self.connection.execute(
            INSERT_PACKAGE_ITEMS,
            [
                {
                    "package_id": mo.package.id,
                    "order_item_id": item.order_item_id,
                    "quantity": item.quantity,
                    "status": int(item.status),
                }
                for mo in merchant_orders
                for item in mo.package.items
            ],
        )

    def for_order(self, order_id: int) -> list[MerchantOrder]:
        rows = self.connection.execute(
            select(
                t.merchant_orders,
                t.packages.c.id.label("package_id"),
                t.packages.c.number.label("package_number"),
                t.packages.c.status.label("package_status"),
                t.packages.c.created_at.label("package_created_at"),
            )
            .join(t.packages, t.packages.c.merchant_order_id == t.merchant_orders.c.id)
            .where(t.merchant_orders.c.order_id == order_id)
            .order_by(t.merchant_orders.c.id)
        ).all()
        items: dict[int, list[PackageItem]] = {}
        item_rows = self.connection.execute(
            select(t.package_items, t.order_items.c.omnitron_id)
            .join(t.order_items, t.order_items.c.id == t.package_items.c.order_item_id)
            .where(t.package_items.c.package_id.in_([r.package_id for r in rows]))
            .order_by(t.package_items.c.id)
        )
        for r in item_rows:
            items.setdefault(r.package_id, []).append(
                PackageItem(
                    id=r.id,
                    order_item_id=r.order_item_id,
                    omnitron_item_id=r.omnitron_id,
                    quantity=r.quantity,
                    status=PackageStatus(r.status),
                )
            )
        return [
            MerchantOrder(
                id=r.id,
                reference=r.reference,
                merchant_reference=r.merchant_reference,
                channel_id=r.channel_id,
                order_id=r.order_id,
                totals=totals_from(r),
                package=Package(
                    id=r.package_id,
                    number=r.package_number,
                    channel_id=r.channel_id,
                    status=PackageStatus(r.package_status),
                    created_at=r.package_created_at,
                    items=items.get(r.package_id, []),
                ),
            )
            for r in rows
        ]


class SqlOutbox(ports.Outbox):
    def __init__(self, connection: Connection):
        self.connection = connection
        self.added: list[OutboxMessage] = []

    def add(self, message: OutboxMessage) -> None:
        self.connection.execute(
            INSERT_OUTBOX,
            {
                "message_id": message.message_id,
                "command": message.command.name,
                "payload": message.command.payload(),
                "created_at": now(),
            },
        )
        self.added.append(message)
