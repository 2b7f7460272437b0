"""SQLAlchemy Core implementations of the domain repositories, on one connection/transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Insert, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from adapters.persistence import tables as t
from adapters.persistence.codec import rate_text, totals_from
from domain import ports
from domain.errors import ConflictingOrderItems
from domain.messages import OutboxMessage
from domain.model import (
    CargoCompany,
    Channel,
    Expense,
    MerchantOrder,
    Order,
    OrderItem,
    Package,
    PackageItem,
    Product,
)
from domain.statuses import OrderStatus, PackageStatus


def now() -> datetime:
    return datetime.now(UTC)


def insert_ignoring_conflicts(connection: Connection, table: Table, *keys: str) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO NOTHING on PostgreSQL and SQLite."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(keys))


class SqlChannelRepository(ports.ChannelRepository):
    def __init__(self, connection: Connection, known: set[int]):
        self.connection = connection
        self.known = known  # channels this process saw committed; they are never deleted
        self.seen: set[int] = set()

    def add_if_missing(self, channel: Channel) -> bool:
        if channel.id in self.known:
            return False
        self.seen.add(channel.id)
        statement = insert_ignoring_conflicts(self.connection, t.channels, "id").returning(
            t.channels.c.id
        )
        row = self.connection.execute(
            statement,
            {
                "id": channel.id,
                "name": channel.name,
                "channel_type": channel.channel_type,
                "created_at": now(),
            },
        ).first()
        return row is not None


class SqlOrderRepository(ports.OrderRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, order: Order) -> bool:
        cargo = order.cargo_company
        row = self.connection.execute(
            insert_ignoring_conflicts(self.connection, t.orders, "channel_id", "number").returning(
                t.orders.c.id
            ),
            {
                "channel_id": order.channel.id,
                "number": order.number,
                "status": int(order.status),
                "currency": order.currency,
                "date_placed": order.date_placed,
                "tracking_number": order.tracking_number,
                "cargo_company": vars(cargo) if cargo else None,
                "customer": order.customer,
                "shipping_address": order.shipping_address,
                "billing_address": order.billing_address,
                "extra": order.extra,
                **order.totals.as_dict(),
                "split": False,
                "received_at": now(),
            },
        ).first()
        if row is None:
            return False
        order.id = row.id
        self._add_items(order)
        self._add_expenses(order)
        return True

    def _add_items(self, order: Order) -> None:
        rows = [
            {
                "order_id": order.id,
                "omnitron_id": i.omnitron_id,
                "sku": i.product.sku,
                "name": i.product.name,
                "barcode": i.product.barcode,
                "merchant_reference": i.merchant_reference,
                "product_offer_reference": i.product_offer_reference,
                "quantity": i.quantity,
                "price": i.price,
                "tax_rate": rate_text(i.tax_rate),
                "discount_amount": i.discount_amount,
                "tracking_number": i.tracking_number,
                "status": int(i.status),
                "extra": i.extra,
            }
            for i in order.items
        ]
        statement = insert(t.order_items).returning(
            t.order_items.c.id, sort_by_parameter_order=True
        )
        try:
            ids = self.connection.execute(statement, rows).scalars().all()
        except IntegrityError:
            raise ConflictingOrderItems(
                "items: an Omnitron order item id of this order already belongs to another order"
            ) from None
        for item, item_id in zip(order.items, ids, strict=True):
            item.id = item_id

    def _add_expenses(self, order: Order) -> None:
        if not order.expenses:
            return
        rows = [
            {
                "order_id": order.id,
                "position": position,
                "type": e.type,
                "name": e.name,
                "amount": e.amount,
                "tax_rate": rate_text(e.tax_rate),
                "merchant_reference": e.merchant_reference,
                "discount_amount": e.discount_amount,
                "canceled": e.canceled,
                "refunded": e.refunded,
            }
            for position, e in enumerate(order.expenses)
        ]
        self.connection.execute(insert(t.expenses), rows)

    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        query = (
            select(t.orders, t.channels.c.name.label("channel_name"), t.channels.c.channel_type)
            .join(t.channels)
            .where(t.orders.c.id == order_id)
        )
        if lock:
            query = query.with_for_update(of=t.orders)
        row = self.connection.execute(query).first()
        return None if row is None else self._order(row)

    def find(self, number: str, channel_id: int | None = None) -> list[Order]:
        query = (
            select(t.orders, t.channels.c.name.label("channel_name"), t.channels.c.channel_type)
            .join(t.channels)
            .where(t.orders.c.number == number)
            .order_by(t.orders.c.channel_id)
        )
        if channel_id is not None:
            query = query.where(t.orders.c.channel_id == channel_id)
        return [self._order(row) for row in self.connection.execute(query)]

    def mark_split(self, order_id: int) -> None:
        self.connection.execute(
            update(t.orders).where(t.orders.c.id == order_id).values(split=True)
        )

    def _order(self, row: Any) -> Order:
        cargo = row.cargo_company
        return Order(
            id=row.id,
            channel=Channel(row.channel_id, row.channel_name, row.channel_type),
            number=row.number,
            status=OrderStatus(row.status),
            date_placed=row.date_placed,
            currency=row.currency,
            items=self._items(row.id),
            expenses=self._expenses(row.id),
            tracking_number=row.tracking_number,
            cargo_company=CargoCompany(**cargo) if cargo else None,
            customer=row.customer,
            shipping_address=row.shipping_address,
            billing_address=row.billing_address,
            extra=row.extra,
            totals=totals_from(row),
            split=row.split,
        )

    def _items(self, order_id: int) -> list[OrderItem]:
        rows = self.connection.execute(
            select(t.order_items)
            .where(t.order_items.c.order_id == order_id)
            .order_by(t.order_items.c.id)
        )
        return [
            OrderItem(
                id=r.id,
                omnitron_id=r.omnitron_id,
                product=Product(r.sku, r.name, r.barcode),
                merchant_reference=r.merchant_reference,
                product_offer_reference=r.product_offer_reference,
                quantity=r.quantity,
                price=r.price,
                tax_rate=Fraction(r.tax_rate),
                discount_amount=r.discount_amount,
                tracking_number=r.tracking_number,
                status=OrderStatus(r.status),
                extra=r.extra,
            )
            for r in rows
        ]

    def _expenses(self, order_id: int) -> list[Expense]:
        rows = self.connection.execute(
            select(t.expenses)
            .where(t.expenses.c.order_id == order_id)
            .order_by(t.expenses.c.position)
        )
        return [
            Expense(
                id=r.id,
                type=r.type,
                name=r.name,
                amount=r.amount,
                tax_rate=Fraction(r.tax_rate),
                merchant_reference=r.merchant_reference,
                discount_amount=r.discount_amount,
                canceled=r.canceled,
                refunded=r.refunded,
            )
            for r in rows
        ]


class SqlMerchantOrderRepository(ports.MerchantOrderRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, merchant_order: MerchantOrder) -> None:
        mo, package = merchant_order, merchant_order.package
        created_at = package.created_at or now()
        mo.id = self.connection.execute(
            insert(t.merchant_orders).returning(t.merchant_orders.c.id),
            {
                "order_id": mo.order_id,
                "channel_id": mo.channel_id,
                "reference": mo.reference,
                "merchant_reference": mo.merchant_reference,
                **mo.totals.as_dict(),
                "created_at": created_at,
            },
        ).scalar_one()
        package.id = self.connection.execute(
            insert(t.packages).returning(t.packages.c.id),
            {
                "merchant_order_id": mo.id,
                "order_id": mo.order_id,
                "channel_id": mo.channel_id,
                "number": package.number,
                "status": int(package.status),
                "created_at": created_at,
                "updated_at": created_at,
            },
        ).scalar_one()
        self.connection.execute(
            insert(t.package_items),
            [
                {
                    "package_id": package.id,
                    "order_item_id": item.order_item_id,
                    "quantity": item.quantity,
                    "status": int(item.status),
                }
                for item in package.items
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
            insert(t.outbox),
            {
                "message_id": message.message_id,
                "command": message.command.name,
                "payload": message.command.payload(),
                "created_at": now(),
            },
        )
        self.added.append(message)
