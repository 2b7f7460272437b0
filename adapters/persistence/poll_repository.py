"""SQL side of the status poll: cycles, claims with SKIP LOCKED on the due-packages index,
batch loads and forward-only moves (a few set-based statements per batch, not one per row)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    CursorResult,
    Executable,
    any_,
    bindparam,
    cast,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from adapters.persistence import tables as t
from adapters.persistence.array_literal import IntArray
from adapters.persistence.prepared import Prepared, enabled
from adapters.persistence.repositories import insert_ignoring
from adapters.persistence.reservations import record_moves
from domain import ports
from domain.lines import order_status
from domain.model import WEB_CHANNEL_TYPES, MerchantOrderItem
from domain.polling import (
    POLLED_STATES,
    PolledMerchantItem,
    PolledPackage,
    Resolution,
    item_status_for,
)
from domain.statuses import ENDED, OrderStatus, PackageStatus

POLLED = [int(s) for s in POLLED_STATES]
PARTS_KEPT = 86_400  # seconds of cycles whose planned parts are kept
CANCELLED = int(PackageStatus.cancelled)  # cancelled package items neither decide nor move
# order items that have ended (cancelled, refunded) are not live: they neither decide a
# package's move nor move with it, and take no event (spec 2, 9.4)
ENDED_CODES = sorted(int(s) for s in ENDED)
MARKETPLACE_CHANNELS = select(t.channels.c.id).where(
    func.lower(t.channels.c.channel_type).not_in(sorted(WEB_CHANNEL_TYPES))
)

# A set of ids is one parameter: on PostgreSQL an array (`id = ANY(:ids)`) sent as one array
# literal (array_literal.IntArray; psycopg2 took ~6 µs per int to adapt a list), where
# `IN (:id_1, …, :id_50)` had SQLAlchemy render and bind 50 parameters per statement in
# Python; elsewhere (SQLite) an expanding IN. The statements are built once (their cache keys
# too), not at every batch.
InIds = Callable[[ColumnElement[Any], str], ColumnElement[bool]]


def _any(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    return column == any_(cast(bindparam(name, type_=IntArray()), ARRAY(BigInteger)))


def _expanding(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    return column.in_(bindparam(name, expanding=True))


def _statements(in_ids: InIds) -> dict[str, Executable]:
    p, o, pi, oi = t.packages.c, t.orders.c, t.package_items.c, t.order_items.c
    mo, moi = t.merchant_orders, t.merchant_order_items
    live = (in_ids(pi.package_id, "ids"), pi.status != CANCELLED)
    orders_of = select(p.order_id).where(in_ids(p.id, "ids"))
    return {
        "claim": select(p.id)
        .where(
            p.status.in_(POLLED),
            p.id > bindparam("after"),
            p.channel_id.in_(MARKETPLACE_CHANNELS),
        )
        .order_by(p.id)
        .limit(bindparam("limit")),
        "load": select(
            p.id, p.status, p.number.label("package_number"), p.order_id, o.number, oi.omnitron_id
        )
        .join(t.orders, o.id == p.order_id)
        .join(t.package_items, pi.package_id == p.id)
        .join(t.order_items, oi.id == pi.order_item_id)
        .where(in_ids(p.id, "ids"), pi.status != CANCELLED, oi.status.not_in(ENDED_CODES))
        .order_by(p.id, oi.omnitron_id),
        "lock_packages": select(p.id, p.status)
        .where(in_ids(p.id, "ids"))
        .order_by(p.id)
        .with_for_update(),
        "lock_orders": select(o.id).where(o.id.in_(orders_of)).order_by(o.id).with_for_update(),
        "packages": update(t.packages)
        .where(in_ids(p.id, "ids"))
        .values(status=bindparam("code"), updated_at=bindparam("when")),
        # the order items go first: they are chosen by their package items' live status
        "order_items": update(t.order_items)
        .where(oi.id.in_(select(pi.order_item_id).where(*live)), oi.status.not_in(ENDED_CODES))
        .values(status=bindparam("item_status")),
        "package_items": update(t.package_items).where(*live).values(status=bindparam("code")),
        "shipments": update(t.shipments)
        .where(in_ids(t.shipments.c.package_id, "ids"))
        .values(status=bindparam("code"), updated_at=bindparam("when")),
        "order_items_of": select(oi.order_id, oi.status, o.status.label("now"))
        .join(t.orders, o.id == oi.order_id)
        .where(oi.order_id.in_(orders_of)),
        "orders": update(t.orders)
        .where(in_ids(o.id, "ids"))
        .values(status=bindparam("order_status")),
        "merchant_items": select(
            p.id.label("package_id"),
            p.order_id,
            mo.c.reference.label("merchant_order_reference"),
            mo.c.merchant_reference,
            p.channel_id.in_(MARKETPLACE_CHANNELS).label("marketplace"),
            moi.c.id,
            moi.c.reference,
            moi.c.order_item_id,
            oi.omnitron_id,
            moi.c.state,
            moi.c.process,
            oi.quantity,
            oi.product_offer_reference,
            oi.sku,
        )
        .join(mo, mo.c.id == p.merchant_order_id)
        .join(t.package_items, pi.package_id == p.id)
        .join(
            moi,
            (moi.c.merchant_order_id == mo.c.id) & (moi.c.order_item_id == pi.order_item_id),
        )
        .join(t.order_items, oi.id == moi.c.order_item_id)
        .where(in_ids(p.id, "ids"), pi.status != CANCELLED, oi.status.not_in(ENDED_CODES))
        .order_by(p.order_id, p.id, moi.c.id),
        "merchant_states": update(moi)
        .where(in_ids(moi.c.id, "ids"))
        .values(state=bindparam("to_state")),
    }


# On PostgreSQL a target's four updates are one statement (data-modifying CTEs see one
# snapshot: the order items are still chosen by their package items' live status before it)
APPLY = text(
    "WITH moved AS (UPDATE packages SET status = :code, updated_at = :when"
    " WHERE id = ANY(CAST(:ids AS BIGINT[])) RETURNING id),"
    " live AS (UPDATE package_items SET status = :code"
    f" WHERE package_id = ANY(CAST(:ids AS BIGINT[])) AND status <> {CANCELLED}"
    " RETURNING order_item_id),"
    " items AS (UPDATE order_items SET status = :item_status"
    " WHERE id IN (SELECT order_item_id FROM live)"
    f" AND status NOT IN ({', '.join(map(str, ENDED_CODES))}) RETURNING id),"
    " shipped AS (UPDATE shipments SET status = :code, updated_at = :when"
    " WHERE package_id = ANY(CAST(:ids AS BIGINT[])) RETURNING id)"
    " SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM items),"
    " (SELECT count(*) FROM shipped)"
).bindparams(bindparam("ids", type_=IntArray()))
STATEMENTS = {
    "postgresql": {**_statements(_any), "apply": APPLY},
    "other": _statements(_expanding),
}
# on PostgreSQL each runs as a prepared statement (adapters/persistence/prepared.py): planned
# once per connection, not at every batch
PREPARED = {
    name: Prepared.of(f"oms_poll_{name}", statement)
    for name, statement in STATEMENTS["postgresql"].items()
}

# a planner message's part of a cycle, recorded once (claim)
INSERT_PART = insert_ignoring(
    t.poll_cycle_parts, "cycle", "after_id", returning=t.poll_cycle_parts.c.cycle
)


class SqlPollRepository(ports.PollRepository):
    def __init__(self, connection: Connection):
        self.connection = connection
        self.sql = STATEMENTS.get(connection.dialect.name, STATEMENTS["other"])
        self._prepared: dict[str, Prepared] | None = None  # read on first use: every unit of
        self.insert_part = INSERT_PART[connection.dialect.name]  # work makes one, few run it
        self._polled: dict[int, tuple[str, int, MerchantOrderItem]] = {}

    def _run(self, name: str, **values: Any) -> CursorResult[Any]:
        if self._prepared is None:
            postgres = self.sql is STATEMENTS["postgresql"]
            self._prepared = PREPARED if postgres and enabled() else {}
        if name in self._prepared:
            return self._prepared[name].run(self.connection, values)
        return self.connection.execute(self.sql[name], values)

    def open_cycle(self, cycle: int, when: datetime) -> bool:
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(t.poll_cycles)
            .values(cycle=cycle, started_at=when)
            .on_conflict_do_nothing(index_elements=["cycle"])
            .returning(t.poll_cycles.c.cycle)
        )
        opened = self.connection.execute(statement).first() is not None
        if opened:  # a part's row only guards its cycle against redelivered planner messages
            parts = t.poll_cycle_parts
            self.connection.execute(delete(parts).where(parts.c.cycle < cycle - PARTS_KEPT))
        return opened

    def claim(self, cycle: int, limit: int, after: int = 0) -> list[int]:
        """Record the part of `cycle` after package id `after`, then read its first `limit` due
        packages in id order (the partial index of due packages). A part is claimed once: a
        second claim of it (a redelivered planner message) finds its row and gets nothing, and
        one running beside the first waits on the row's key until the first commits. No
        package row is written or locked: a package a move holds is read as it was committed,
        and the move rechecks its status under its own lock."""
        part = {"cycle": cycle, "after_id": after, "planned_at": datetime.now(UTC)}
        if self.connection.execute(self.insert_part, part).first() is None:
            return []
        return list(self._run("claim", after=after, limit=limit).scalars())

    def load(self, package_ids: list[int]) -> list[PolledPackage]:
        found: dict[int, PolledPackage] = {}
        for row in self._run("load", ids=list(package_ids)):
            package = found.get(row.id)
            if package is None:
                package = found[row.id] = PolledPackage(
                    row.id,
                    PackageStatus(row.status),
                    row.number,
                    [],
                    row.package_number,
                    row.order_id,
                )
            package.item_ids.append(row.omnitron_id)
        return list(found.values())

    def move(self, moves: list[Resolution], when: datetime) -> list[Resolution]:
        """Lock the packages, then their orders (the order packaging locks in too: no deadlock),
        keep the moves that are still forward, apply them by target. The order lock makes two
        batches moving packages of one order take turns, so the second one reads the first
        one's committed item statuses before the order follows its items."""
        ids = sorted({m.package_id for m in moves})
        current: dict[int, int] = {r.id: r.status for r in self._run("lock_packages", ids=ids)}
        self._run("lock_orders", ids=ids).all()
        applied = [
            m for m in moves if m.target is not None and m.target > current.get(m.package_id, 999)
        ]
        by_target: dict[PackageStatus, list[int]] = defaultdict(list)
        for move in applied:
            assert move.target is not None
            by_target[move.target].append(move.package_id)
        for target, package_ids in by_target.items():
            self._apply(target, package_ids, when)
        if applied:
            self._orders_follow_items([m.package_id for m in applied])
        return applied

    def _apply(self, target: PackageStatus, package_ids: list[int], when: datetime) -> None:
        code, item_status = int(target), int(item_status_for(target))
        if "apply" in self.sql:
            self._run("apply", ids=package_ids, code=code, when=when, item_status=item_status)
            return
        self._run("packages", ids=package_ids, code=code, when=when)
        self._run("order_items", ids=package_ids, item_status=item_status)
        self._run("package_items", ids=package_ids, code=code)
        self._run("shipments", ids=package_ids, code=code, when=when)

    def _orders_follow_items(self, package_ids: list[int]) -> None:
        items: dict[int, list[OrderStatus]] = defaultdict(list)
        status_now: dict[int, OrderStatus] = {}
        for row in self._run("order_items_of", ids=package_ids):
            items[row.order_id].append(OrderStatus(row.status))
            status_now[row.order_id] = OrderStatus(row.now)
        by_status: dict[OrderStatus, list[int]] = defaultdict(list)
        for order_id, statuses in items.items():
            following = order_status(statuses)
            if following != status_now[order_id]:
                by_status[following].append(order_id)
        for status, order_ids in by_status.items():
            self._run("orders", ids=sorted(order_ids), order_status=int(status))

    def merchant_items(self, package_ids: list[int]) -> list[PolledMerchantItem]:
        found = []
        for r in self._run("merchant_items", ids=list(package_ids)):
            item = MerchantOrderItem(
                r.reference,
                r.order_item_id,
                r.omnitron_id,
                r.state,
                r.process,
                r.id,
                quantity=r.quantity,
                product_offer_reference=r.product_offer_reference,
                sku=r.sku,
                stored_state=r.state,
            )
            # its reservation, when saved
            self._polled[r.id] = (r.merchant_reference, r.order_id, item)
            found.append(
                PolledMerchantItem(
                    r.package_id, r.order_id, r.merchant_order_reference, bool(r.marketplace), item
                )
            )
        return found

    def save_merchant_states(self, states: dict[int, str]) -> None:
        """The items' new states, a statement per state, and their reservations' changes in
        one more (items read by `merchant_items` in this unit of work)."""
        by_state: dict[str, list[int]] = defaultdict(list)
        for item_id, state in states.items():
            by_state[state].append(item_id)
        for state, ids in sorted(by_state.items()):  # a batch moves its items to one state or two
            self._run("merchant_states", ids=sorted(ids), to_state=state)
        moved = []
        for item_id, state in states.items():
            merchant_reference, order_id, item = self._polled[item_id]
            item.state = state
            moved.append((merchant_reference, order_id, item))
        record_moves(self.connection, moved)


class SqlRuntimeFlags(ports.RuntimeFlags):
    def __init__(self, connection: Connection):
        self.connection = connection

    def get(self, name: str) -> str | None:
        query = select(t.runtime_flags.c.value).where(t.runtime_flags.c.name == name)
        return self.connection.execute(query).scalar()

    def set(self, name: str, value: str) -> None:
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(t.runtime_flags).values(
            name=name, value=value, updated_at=datetime.now().astimezone()
        )
        self.connection.execute(
            statement.on_conflict_do_update(
                index_elements=["name"],
                set_={
                    "value": statement.excluded.value,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
