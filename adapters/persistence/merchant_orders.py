"""SQLAlchemy Core repositories for what the split writes (merchant orders with their items,
packages and package items) and for the outbox."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, bindparam, select, update

from adapters.persistence import tables as t
from adapters.persistence.bulk import (
    insert_columns,
    insert_columns_with_ids,
    insert_rows,
    insert_rows_with_ids,
)
from adapters.persistence.codec import totals_from
from adapters.persistence.repositories import now
from adapters.persistence.reservations import record_moves
from domain import ports
from domain.messages import OutboxMessage
from domain.model import MerchantOrder, MerchantOrderItem, Package, PackageItem
from domain.statuses import PackageStatus

UPDATE_ITEM_STATE = (
    update(t.merchant_order_items)
    .where(t.merchant_order_items.c.id == bindparam("b_id"))
    .values(state=bindparam("new_state"))
)


class SqlMerchantOrderRepository(ports.MerchantOrderRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, merchant_order: MerchantOrder) -> None:
        self.add_all([merchant_order])

    def add_all(self, merchant_orders: list[MerchantOrder]) -> None:
        """Four statements however many merchants: merchant orders, their items, packages,
        package items."""
        if not merchant_orders:
            return
        created = [mo.created_at or now() for mo in merchant_orders]
        ids = insert_rows_with_ids(
            self.connection,
            t.merchant_orders,
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
        for mo, mo_id in zip(merchant_orders, ids, strict=True):
            mo.id = mo_id
        self._add_items(merchant_orders)
        with_package = [
            (mo, mo.package, when)
            for mo, when in zip(merchant_orders, created, strict=True)
            if mo.package is not None
        ]
        if not with_package:
            return
        package_ids = insert_rows_with_ids(
            self.connection,
            t.packages,
            [
                {
                    "merchant_order_id": mo.id,
                    "order_id": mo.order_id,
                    "channel_id": mo.channel_id,
                    "number": package.number,
                    "status": int(package.status),
                    "created_at": when,
                    "updated_at": when,
                }
                for mo, package, when in with_package
            ],
        )
        for (_, package, _), package_id in zip(with_package, package_ids, strict=True):
            package.id = package_id
        package_items = [(p.id, item) for _, p, _ in with_package for item in p.items]
        insert_columns(
            self.connection,
            t.package_items,
            {
                "package_id": [package_id for package_id, _ in package_items],
                "order_item_id": [item.order_item_id for _, item in package_items],
                "quantity": [item.quantity for _, item in package_items],
                "status": [int(item.status) for _, item in package_items],
            },
        )

    def _add_items(self, merchant_orders: list[MerchantOrder]) -> None:
        pairs = [(mo.id, item) for mo in merchant_orders for item in mo.items]
        if not pairs:
            return
        items = [item for _, item in pairs]
        item_ids = insert_columns_with_ids(
            self.connection,
            t.merchant_order_items,
            {
                "merchant_order_id": [mo_id for mo_id, _ in pairs],
                "order_item_id": [item.order_item_id for item in items],
                "reference": [item.reference for item in items],
                "state": [item.state for item in items],
                "process": [item.process for item in items],
            },
        )
        for item, item_id in zip(items, item_ids, strict=True):
            item.id = item_id
        by_id = {mo.id: mo for mo in merchant_orders}
        record_moves(
            self.connection,
            [
                (by_id[mo_id].merchant_reference, by_id[mo_id].order_id, item)
                for mo_id, item in pairs
            ],
        )

    def for_order(self, order_id: int) -> list[MerchantOrder]:
        return self._load(t.merchant_orders.c.order_id == order_id)

    def find(self, reference: str, merchant_reference: str) -> list[MerchantOrder]:
        c = t.merchant_orders.c
        return self._load(c.reference == reference, c.merchant_reference == merchant_reference)

    def save_changes(self, merchant_order: MerchantOrder, items: list[MerchantOrderItem]) -> None:
        self.connection.execute(
            update(t.merchant_orders)
            .where(t.merchant_orders.c.id == merchant_order.id)
            .values(**merchant_order.totals.as_dict())
        )
        if items:
            self.connection.execute(
                UPDATE_ITEM_STATE, [{"b_id": i.id, "new_state": i.state} for i in items]
            )
            mo = merchant_order
            record_moves(self.connection, [(mo.merchant_reference, mo.order_id, i) for i in items])

    def _load(self, *where: ColumnElement[bool]) -> list[MerchantOrder]:
        rows = self.connection.execute(
            select(
                t.merchant_orders,
                t.packages.c.id.label("package_id"),
                t.packages.c.number.label("package_number"),
                t.packages.c.status.label("package_status"),
                t.packages.c.created_at.label("package_created_at"),
            )
            .outerjoin(t.packages, t.packages.c.merchant_order_id == t.merchant_orders.c.id)
            .where(*where)
            .order_by(t.merchant_orders.c.id)
        ).all()
        if not rows:
            return []
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
        merchant_items: dict[int, list[MerchantOrderItem]] = {}
        for r in self.connection.execute(
            select(
                t.merchant_order_items,
                t.order_items.c.omnitron_id,
                t.order_items.c.quantity,
                t.order_items.c.product_offer_reference,
                t.order_items.c.sku,
            )
            .join(t.order_items, t.order_items.c.id == t.merchant_order_items.c.order_item_id)
            .where(t.merchant_order_items.c.merchant_order_id.in_([r.id for r in rows]))
            .order_by(t.merchant_order_items.c.id)
        ):
            merchant_items.setdefault(r.merchant_order_id, []).append(
                MerchantOrderItem(
                    id=r.id,
                    reference=r.reference,
                    order_item_id=r.order_item_id,
                    omnitron_item_id=r.omnitron_id,
                    state=r.state,
                    process=r.process,
                    quantity=r.quantity,
                    product_offer_reference=r.product_offer_reference,
                    sku=r.sku,
                    stored_state=r.state,
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
                created_at=r.created_at,
                items=merchant_items.get(r.id, []),
                package=None
                if r.package_id is None
                else Package(
                    id=r.package_id,
                    number=r.package_number,
                    channel_id=r.channel_id,
                    order_id=r.order_id,
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
        self.write([message])
        self.added.append(message)

    def write(self, messages: list[OutboxMessage]) -> None:
        """The rows of `messages`, in one statement."""
        if not messages:
            return
        created = now()
        insert_rows(
            self.connection,
            t.outbox,
            [
                {
                    "message_id": message.message_id,
                    "command": message.command.name,
                    "payload": message.command.payload(),
                    "created_at": created,
                }
                for message in messages
            ],
        )
