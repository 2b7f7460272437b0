"""SQLAlchemy Core implementations of the domain repositories, on one connection/transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, Column, Connection, Insert, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError

from adapters.persistence import tables as t
from adapters.persistence.array_literal import ints
from adapters.persistence.bulk import insert_columns_with_ids, insert_rows
from adapters.persistence.codec import rate_text, totals_from
from adapters.persistence.driver import DriverStatement
from domain import ports
from domain.errors import ConflictingOrderItems, InvalidInput
from domain.model import (
    CargoCompany,
    Channel,
    Expense,
    Order,
    OrderItem,
    Product,
)
from domain.money import rate_of
from domain.statuses import OrderStatus

# Statements built once: SQLAlchemy memoises their cache keys, which matters on the hot path.
_ORDER_WITH_CHANNEL = select(
    t.orders, t.channels.c.name.label("channel_name"), t.channels.c.channel_type
).join(t.channels)
SELECT_ORDER = _ORDER_WITH_CHANNEL.where(t.orders.c.id == bindparam("order_id"))
SELECT_ORDER_FOR_UPDATE = SELECT_ORDER.with_for_update(of=t.orders)
SELECT_ITEMS = (
    select(t.order_items)
    .where(t.order_items.c.order_id == bindparam("order_id"))
    .order_by(t.order_items.c.id)
)
SELECT_EXPENSES = (
    select(t.expenses)
    .where(t.expenses.c.order_id == bindparam("order_id"))
    .order_by(t.expenses.c.position)
)
UPDATE_ITEM_STATUS = (
    update(t.order_items)
    .where(t.order_items.c.id == bindparam("item_id"))
    .values(status=bindparam("new_status"))
)
UPDATE_EXPENSE = (
    update(t.expenses)
    .where(t.expenses.c.id == bindparam("b_id"))
    .values(canceled=bindparam("b_canceled"), refunded=bindparam("b_refunded"))
)
# several orders (group commit's reads): built once, the ids an expanding parameter
_ORDER_IDS: BindParameter[int] = bindparam("order_ids", expanding=True)
SELECT_ORDERS = _ORDER_WITH_CHANNEL.where(t.orders.c.id.in_(_ORDER_IDS)).order_by(t.orders.c.id)
SELECT_ORDERS_FOR_UPDATE = SELECT_ORDERS.with_for_update(of=t.orders)
SELECT_ITEMS_OF_ORDERS = (
    select(t.order_items)
    .where(t.order_items.c.order_id.in_(_ORDER_IDS))
    .order_by(t.order_items.c.id)
)
SELECT_EXPENSES_OF_ORDERS = (
    select(t.expenses)
    .where(t.expenses.c.order_id.in_(_ORDER_IDS))
    .order_by(t.expenses.c.order_id, t.expenses.c.position)
)


def _columns_of(table: Table) -> str:
    return ", ".join(f"{table.name}.{column.name}" for column in table.c)


# the same three reads on the driver's cursor (PostgreSQL), the ids one array literal
GET_ORDERS = DriverStatement(
    f"SELECT {_columns_of(t.orders)}, channels.name AS channel_name, channels.channel_type"
    " FROM orders JOIN channels ON channels.id = orders.channel_id"
    " WHERE orders.id = ANY(CAST($1 AS BIGINT[])) ORDER BY orders.id"
)
GET_ORDERS_FOR_UPDATE = DriverStatement(GET_ORDERS.sql + " FOR UPDATE OF orders")
GET_ITEMS = DriverStatement(
    f"SELECT {_columns_of(t.order_items)} FROM order_items"
    " WHERE order_items.order_id = ANY(CAST($1 AS BIGINT[])) ORDER BY order_items.id"
)
GET_EXPENSES = DriverStatement(
    f"SELECT {_columns_of(t.expenses)} FROM expenses"
    " WHERE expenses.order_id = ANY(CAST($1 AS BIGINT[]))"
    " ORDER BY expenses.order_id, expenses.position"
)
MARK_SPLIT = update(t.orders).where(t.orders.c.id == bindparam("order_id")).values(split=True)


def now() -> datetime:
    return datetime.now(UTC)


def insert_ignoring(table: Table, *keys: str, returning: Column[Any]) -> dict[str, Insert]:
    """INSERT ... ON CONFLICT (keys) DO NOTHING RETURNING, per dialect."""
    return {
        name: dialect.insert(table)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(returning)
        for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
    }


INSERT_CHANNEL = insert_ignoring(t.channels, "id", returning=t.channels.c.id)
INSERT_ORDER = insert_ignoring(t.orders, "channel_id", "number", returning=t.orders.c.id)


class SqlChannelRepository(ports.ChannelRepository):
    def __init__(self, connection: Connection, known: set[int]):
        self.connection = connection
        self.known = known  # channels this process saw committed; they are never deleted
        self.seen: set[int] = set()

    def add_if_missing(self, channel: Channel) -> bool:
        if channel.id in self.known:
            return False
        self.seen.add(channel.id)
        row = self.connection.execute(
            INSERT_CHANNEL[self.connection.dialect.name],
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
        try:
            return self._add(order)
        except DataError as error:  # a value the schema let through does not fit its column
            raise InvalidInput(f"a value does not fit its column: {error.orig}") from None

    def _add(self, order: Order) -> bool:
        row = self.connection.execute(
            INSERT_ORDER[self.connection.dialect.name], order_row(order)
        ).first()
        if row is None:
            return False
        order.id = row.id
        self._add_lines(order)
        return True

    def _add_lines(self, order: Order) -> None:
        """The stored order's items and expenses (group commit defers this to add_lines)."""
        self.add_lines([order])

    def add_lines(self, orders: list[Order]) -> None:
        """Items and expenses of stored orders: one statement per table however many orders."""
        try:
            self._add_items(orders)
            self._add_expenses(orders)
        except DataError as error:
            raise InvalidInput(f"a value does not fit its column: {error.orig}") from None

    def _add_items(self, orders: list[Order]) -> None:
        pairs = [(order.id, i) for order in orders for i in order.items]
        if not pairs:
            return
        items = [i for _, i in pairs]
        columns: dict[str, list[Any]] = {
            "order_id": [order_id for order_id, _ in pairs],
            "omnitron_id": [i.omnitron_id for i in items],
            "sku": [i.product.sku for i in items],
            "name": [i.product.name for i in items],
            "barcode": [i.product.barcode for i in items],
            "merchant_reference": [i.merchant_reference for i in items],
            "product_offer_reference": [i.product_offer_reference for i in items],
            "quantity": [i.quantity for i in items],
            "price": [i.price for i in items],
            "tax_rate": [rate_text(i.tax_rate) for i in items],
            "discount_amount": [i.discount_amount for i in items],
            "tracking_number": [i.tracking_number for i in items],
            "status": [int(i.status) for i in items],
            "extra": [i.extra for i in items],
        }
        try:
            ids = insert_columns_with_ids(self.connection, t.order_items, columns)
        except IntegrityError:
            raise ConflictingOrderItems(
                "items: an Omnitron order item id of this order already belongs to another order"
            ) from None
        for item, item_id in zip(items, ids, strict=True):
            item.id = item_id

    def _add_expenses(self, orders: list[Order]) -> None:
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
            for order in orders
            for position, e in enumerate(order.expenses)
        ]
        insert_rows(self.connection, t.expenses, rows)

    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        query = SELECT_ORDER_FOR_UPDATE if lock else SELECT_ORDER
        row = self.connection.execute(query, {"order_id": order_id}).first()
        return None if row is None else self._order(row)

    def get_many(self, order_ids: list[int], *, lock: bool = False) -> dict[int, Order]:
        """Several orders in three statements (orders, items, expenses); locked in id order.
        On PostgreSQL on the driver's cursor (driver.py): the group commit's reads."""
        connection = self.connection
        if connection.dialect.name == "postgresql":
            rows: Any = (GET_ORDERS_FOR_UPDATE if lock else GET_ORDERS).rows(
                connection, ints(order_ids)
            )
            found = ints([row.id for row in rows])
            item_rows: Any = GET_ITEMS.rows(connection, found)
            expense_rows: Any = GET_EXPENSES.rows(connection, found)
        else:
            query = SELECT_ORDERS_FOR_UPDATE if lock else SELECT_ORDERS
            rows = connection.execute(query, {"order_ids": order_ids}).all()
            ids = [row.id for row in rows]
            item_rows = connection.execute(SELECT_ITEMS_OF_ORDERS, {"order_ids": ids})
            expense_rows = connection.execute(SELECT_EXPENSES_OF_ORDERS, {"order_ids": ids})
        items: dict[int, list[OrderItem]] = {row.id: [] for row in rows}
        for r in item_rows:
            items[r.order_id].append(_item(r))
        expenses: dict[int, list[Expense]] = {row.id: [] for row in rows}
        for r in expense_rows:
            expenses[r.order_id].append(_expense(r))
        return {row.id: self._order(row, items[row.id], expenses[row.id]) for row in rows}

    def find(self, number: str, channel_id: int | None = None) -> list[Order]:
        query = _ORDER_WITH_CHANNEL.where(t.orders.c.number == number).order_by(
            t.orders.c.channel_id
        )
        if channel_id is not None:
            query = query.where(t.orders.c.channel_id == channel_id)
        return [self._order(row) for row in self.connection.execute(query)]

    def find_by_reference(self, reference: str, channel_id: int | None = None) -> list[Order]:
        owners = (
            select(t.packages.c.order_id)
            .where(t.packages.c.number == reference)
            .union(
                select(t.merchant_orders.c.order_id).where(
                    t.merchant_orders.c.reference == reference
                )
            )
        )
        query = _ORDER_WITH_CHANNEL.where(t.orders.c.id.in_(owners)).order_by(t.orders.c.channel_id)
        if channel_id is not None:
            query = query.where(t.orders.c.channel_id == channel_id)
        return [self._order(row) for row in self.connection.execute(query)]

    def mark_split(self, order_id: int) -> None:
        self.connection.execute(MARK_SPLIT, {"order_id": order_id})

    def save_statuses(self, order: Order, items: list[OrderItem]) -> None:
        self.connection.execute(
            update(t.orders).where(t.orders.c.id == order.id).values(status=int(order.status))
        )
        self.connection.execute(
            UPDATE_ITEM_STATUS,
            [{"item_id": item.id, "new_status": int(item.status)} for item in items],
        )

    def save_lines(self, order: Order, items: list[OrderItem], expenses: list[Expense]) -> None:
        self.connection.execute(
            update(t.orders)
            .where(t.orders.c.id == order.id)
            .values(status=int(order.status), **order.totals.as_dict())
        )
        if items:
            self.connection.execute(
                UPDATE_ITEM_STATUS,
                [{"item_id": item.id, "new_status": int(item.status)} for item in items],
            )
        if expenses:
            self.connection.execute(
                UPDATE_EXPENSE,
                [
                    {"b_id": e.id, "b_canceled": e.canceled, "b_refunded": e.refunded}
                    for e in expenses
                ],
            )

    def _order(
        self,
        row: Any,
        items: list[OrderItem] | None = None,
        expenses: list[Expense] | None = None,
    ) -> Order:
        cargo = row.cargo_company
        return Order(
            id=row.id,
            channel=Channel(row.channel_id, row.channel_name, row.channel_type),
            number=row.number,
            status=OrderStatus(row.status),
            date_placed=row.date_placed,
            currency=row.currency,
            items=self._items(row.id) if items is None else items,
            expenses=self._expenses(row.id) if expenses is None else expenses,
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
        return [_item(r) for r in self.connection.execute(SELECT_ITEMS, {"order_id": order_id})]

    def _expenses(self, order_id: int) -> list[Expense]:
        rows = self.connection.execute(SELECT_EXPENSES, {"order_id": order_id})
        return [_expense(r) for r in rows]


def order_row(order: Order) -> dict[str, Any]:
    """The orders table's row of a new order (its id, if it has one, apart)."""
    cargo = order.cargo_company
    return {
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
    }


def _item(r: Any) -> OrderItem:
    return OrderItem(
        id=r.id,
        omnitron_id=r.omnitron_id,
        product=Product(r.sku, r.name, r.barcode),
        merchant_reference=r.merchant_reference,
        product_offer_reference=r.product_offer_reference,
        quantity=r.quantity,
        price=r.price,
        tax_rate=rate_of(r.tax_rate),
        discount_amount=r.discount_amount,
        tracking_number=r.tracking_number,
        status=OrderStatus(r.status),
        extra=r.extra,
    )


def _expense(r: Any) -> Expense:
    return Expense(
        id=r.id,
        type=r.type,
        name=r.name,
        amount=r.amount,
        tax_rate=rate_of(r.tax_rate),
        merchant_reference=r.merchant_reference,
        discount_amount=r.discount_amount,
        canceled=r.canceled,
        refunded=r.refunded,
    )
