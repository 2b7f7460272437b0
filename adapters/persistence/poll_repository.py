"""SQL side of the status poll: cycles, claims with SKIP LOCKED on the due-packages index,
batch loads and forward-only moves (a few set-based statements per batch, not one per row)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.persistence import tables as t
from domain import ports
from domain.model import WEB_CHANNEL_TYPES, MerchantOrderItem
from domain.packaging import status_following
from domain.polling import (
    POLLED_STATES,
    PolledMerchantItem,
    PolledPackage,
    Resolution,
    item_status_for,
)
from domain.statuses import OrderStatus, PackageStatus

POLLED = [int(s) for s in POLLED_STATES]
CANCELLED = int(PackageStatus.cancelled)  # cancelled package items neither decide nor move
MARKETPLACE_CHANNELS = select(t.channels.c.id).where(
    func.lower(t.channels.c.channel_type).not_in(sorted(WEB_CHANNEL_TYPES))
)


class SqlPollRepository(ports.PollRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def open_cycle(self, cycle: int, when: datetime) -> bool:
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(t.poll_cycles)
            .values(cycle=cycle, started_at=when)
            .on_conflict_do_nothing(index_elements=["cycle"])
            .returning(t.poll_cycles.c.cycle)
        )
        return self.connection.execute(statement).first() is not None

    def claim(self, cycle: int, limit: int, after: int = 0) -> list[int]:
        """Two statements: lock the first due packages after id `after` (the partial index of
        due packages, in id order), then mark them by primary key. The lock waits for a
        package another transaction holds (a move, a command: short ones) rather than skip
        it, so a cursor moving on never leaves a package behind in its cycle; once the lock is
        granted PostgreSQL checks the row again, and a package another claim took for this
        cycle is left out. The update writes `poll_cycle` only, in no index: a HOT update."""
        p = t.packages.c
        due = self.connection.execute(
            select(p.id)
            .where(
                p.status.in_(POLLED),
                p.poll_cycle < cycle,
                p.id > after,
                p.channel_id.in_(MARKETPLACE_CHANNELS),
            )
            .order_by(p.id)
            .limit(limit)
            .with_for_update()
        )
        ids = sorted(due.scalars())
        if ids:
            self.connection.execute(
                update(t.packages).where(p.id.in_(ids)).values(poll_cycle=cycle)
            )
        return ids

    def load(self, package_ids: list[int]) -> list[PolledPackage]:
        rows = self.connection.execute(
            select(
                t.packages.c.id,
                t.packages.c.status,
                t.packages.c.number.label("package_number"),
                t.orders.c.number,
                t.order_items.c.omnitron_id,
            )
            .join(t.orders, t.orders.c.id == t.packages.c.order_id)
            .join(t.package_items, t.package_items.c.package_id == t.packages.c.id)
            .join(t.order_items, t.order_items.c.id == t.package_items.c.order_item_id)
            .where(t.packages.c.id.in_(package_ids), t.package_items.c.status != CANCELLED)
            .order_by(t.packages.c.id, t.order_items.c.omnitron_id)
        )
        found: dict[int, PolledPackage] = {}
        for row in rows:
            package = found.setdefault(
                row.id,
                PolledPackage(
                    row.id, PackageStatus(row.status), row.number, [], row.package_number
                ),
            )
            package.item_ids.append(row.omnitron_id)
        return list(found.values())

    def move(self, moves: list[Resolution], when: datetime) -> list[Resolution]:
        """Lock the packages, then their orders (the order packaging locks in too: no deadlock),
        keep the moves that are still forward, apply them by target. The order lock makes two
        batches moving packages of one order take turns, so the second one reads the first
        one's committed item statuses before the order follows its items."""
        ids = sorted({m.package_id for m in moves})
        current = dict(
            self.connection.execute(
                select(t.packages.c.id, t.packages.c.status)
                .where(t.packages.c.id.in_(ids))
                .order_by(t.packages.c.id)
                .with_for_update()
            ).all()
        )
        self.connection.execute(
            select(t.orders.c.id)
            .where(t.orders.c.id.in_(select(t.packages.c.order_id).where(t.packages.c.id.in_(ids))))
            .order_by(t.orders.c.id)
            .with_for_update()
        ).all()
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
        code = int(target)
        self.connection.execute(
            update(t.packages)
            .where(t.packages.c.id.in_(package_ids))
            .values(status=code, updated_at=when)
        )
        live = (
            t.package_items.c.package_id.in_(package_ids),
            t.package_items.c.status != CANCELLED,
        )
        # the order items go first: they are chosen by their package items' live status
        items = select(t.package_items.c.order_item_id).where(*live)
        self.connection.execute(
            update(t.order_items)
            .where(t.order_items.c.id.in_(items))
            .values(status=int(item_status_for(target)))
        )
        self.connection.execute(update(t.package_items).where(*live).values(status=code))
        self.connection.execute(
            update(t.shipments)
            .where(t.shipments.c.package_id.in_(package_ids))
            .values(status=code, updated_at=when)
        )

    def _orders_follow_items(self, package_ids: list[int]) -> None:
        orders = select(t.packages.c.order_id).where(t.packages.c.id.in_(package_ids))
        rows = self.connection.execute(
            select(t.order_items.c.order_id, t.order_items.c.status, t.orders.c.status.label("now"))
            .join(t.orders, t.orders.c.id == t.order_items.c.order_id)
            .where(t.order_items.c.order_id.in_(orders))
        )
        items: dict[int, list[OrderStatus]] = defaultdict(list)
        status_now: dict[int, OrderStatus] = {}
        for row in rows:
            items[row.order_id].append(OrderStatus(row.status))
            status_now[row.order_id] = OrderStatus(row.now)
        by_status: dict[OrderStatus, list[int]] = defaultdict(list)
        for order_id, statuses in items.items():
            following = status_following(statuses, status_now[order_id])
            if following != status_now[order_id]:
                by_status[following].append(order_id)
        for status, order_ids in by_status.items():
            self.connection.execute(
                update(t.orders).where(t.orders.c.id.in_(order_ids)).values(status=int(status))
            )

    def merchant_items(self, package_ids: list[int]) -> list[PolledMerchantItem]:
        p, mo, pi, moi = t.packages, t.merchant_orders, t.package_items, t.merchant_order_items
        rows = self.connection.execute(
            select(
                p.c.id.label("package_id"),
                p.c.order_id,
                mo.c.reference.label("merchant_order_reference"),
                p.c.channel_id.in_(MARKETPLACE_CHANNELS).label("marketplace"),
                moi.c.id,
                moi.c.reference,
                moi.c.order_item_id,
                t.order_items.c.omnitron_id,
                moi.c.state,
                moi.c.process,
            )
            .join(mo, mo.c.id == p.c.merchant_order_id)
            .join(pi, pi.c.package_id == p.c.id)
            .join(
                moi,
                (moi.c.merchant_order_id == mo.c.id) & (moi.c.order_item_id == pi.c.order_item_id),
            )
            .join(t.order_items, t.order_items.c.id == moi.c.order_item_id)
            .where(p.c.id.in_(package_ids), pi.c.status != CANCELLED)
            .order_by(p.c.order_id, p.c.id, moi.c.id)
        )
        return [
            PolledMerchantItem(
                r.package_id,
                r.order_id,
                r.merchant_order_reference,
                bool(r.marketplace),
                MerchantOrderItem(
                    r.reference, r.order_item_id, r.omnitron_id, r.state, r.process, r.id
                ),
            )
            for r in rows
        ]

    def save_merchant_states(self, states: dict[int, str]) -> None:
        by_state: dict[str, list[int]] = defaultdict(list)
        for item_id, state in states.items():
            by_state[state].append(item_id)
        for state, ids in sorted(by_state.items()):  # a batch moves its items to one state or two
            self.connection.execute(
                update(t.merchant_order_items)
                .where(t.merchant_order_items.c.id.in_(sorted(ids)))
                .values(state=state)
            )


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
