"""Group commit on PostgreSQL: several messages' use cases in one transaction, each one's
failure its own, and a group whose write fails run again one message at a time."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
import structlog
from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from adapters.persistence.group_commit import GroupCommitter
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import services
from domain.errors import ConflictingOrderItems, InvalidInput
from domain.messages import OutboxMessage
from domain.model import Channel, Order
from domain.ports import UnitOfWork
from tests.integration.test_repositories import example_order

pytestmark = pytest.mark.services


class Published:
    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []
        self.lock = threading.Lock()

    def __call__(self, messages: list[OutboxMessage]) -> None:
        with self.lock:
            self.messages += messages


def in_one_group(
    committer: GroupCommitter,
    works: list[Callable[[UnitOfWork], Any]],
    keys: list[int] | None = None,
) -> list[Future[Any]]:
    """A first work holds the committer while the others queue up; they then run as one group
    (`keys`: the orders the works read, loaded for the whole group)."""
    gate, holding = threading.Event(), threading.Event()

    def hold(uow: UnitOfWork) -> None:
        holding.set()
        gate.wait(10)

    pool = ThreadPoolExecutor(len(works) + 1)
    first = pool.submit(committer.run, hold)
    holding.wait(10)
    futures = [
        pool.submit(committer.run, work, None if keys is None else keys[i])
        for i, work in enumerate(works)
    ]
    while True:  # every work is queued behind the held group
        with committer._lock:
            if len(committer._pending) == len(works):
                break
        time.sleep(0.01)
    gate.set()
    first.result(10)
    for future in futures:
        future.exception(30)
    pool.shutdown()
    return futures


def stored(engine: Engine, numbers: list[str]) -> dict[str, tuple[int, int, bool]]:
    """number -> (items, outbox rows of its split, split?); the example order has 3 items"""
    with engine.connect() as c:
        rows = c.execute(
            select(t.orders.c.number, t.orders.c.id, t.orders.c.split).where(
                t.orders.c.number.in_(numbers)
            )
        ).all()
        result = {}
        for number, order_id, split in rows:
            items = c.execute(
                select(func.count()).where(t.order_items.c.order_id == order_id)
            ).scalar_one()
            outbox = c.execute(
                select(func.count()).where(t.outbox.c.payload["order_id"].as_integer() == order_id)
            ).scalar_one()
            result[number] = (items, outbox, split)
    return result


def ingest(order: Order) -> Callable[[UnitOfWork], services.Ingested]:
    return lambda uow: services.ingest_order(order, uow, message_id=str(uuid.uuid4()))


def test_orders_ingested_in_one_group_are_stored_once_each_with_their_split_message(
    pg: Engine,
) -> None:
    published = Published()
    committer = GroupCommitter(pg, published, "ingest", max_batch=64)
    orders = [example_order() for _ in range(12)]

    futures = in_one_group(committer, [ingest(order) for order in orders])

    assert [f.result().created for f in futures] == [True] * 12
    assert list(committer.sizes) == [1, 12] and committer.fallbacks == 0
    numbers = [o.number for o in orders]
    assert stored(pg, numbers) == {n: (3, 1, False) for n in numbers}
    assert sorted(m.command.payload()["order_id"] for m in published.messages) == sorted(
        f.result().order_id for f in futures
    )


def orders_stored(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(t.orders)).scalar_one()


def test_a_work_that_fails_before_writing_fails_alone_and_its_batch_mates_commit(
    pg: Engine,
) -> None:
    committer = GroupCommitter(pg, Published(), "ingest", max_batch=64)
    good = [example_order() for _ in range(3)]

    def bad(uow: UnitOfWork) -> None:
        raise InvalidInput("this one is wrong")

    before = orders_stored(pg)
    futures = in_one_group(committer, [ingest(good[0]), bad, ingest(good[1]), ingest(good[2])])

    assert isinstance(futures[1].exception(), InvalidInput)
    assert all(f.result().created for i, f in enumerate(futures) if i != 1)
    assert committer.fallbacks == 0 and list(committer.sizes) == [1, 4]
    assert stored(pg, [o.number for o in good]) == {o.number: (3, 1, False) for o in good}
    assert orders_stored(pg) == before + 3


def test_a_work_that_fails_after_writing_sends_its_group_back_to_one_transaction_each(
    pg: Engine,
) -> None:
    """A channel seen for the first time is written at once: only its own transaction can undo
    it. (A new order's row waits for the group's insert, so adding one is not such a write.)"""
    committer = GroupCommitter(pg, Published(), "ingest", max_batch=64)
    good = [example_order() for _ in range(3)]
    doomed = example_order()
    new_channel = Channel(id=uuid.uuid4().int % 10**9 + 10**9, name="new", channel_type="web")

    def bad(uow: UnitOfWork) -> None:
        with uow:
            uow.orders.add(doomed)
            uow.channels.add_if_missing(new_channel)  # writes, then fails before its commit
            raise InvalidInput("this one is wrong")

    before = orders_stored(pg)
    futures = in_one_group(committer, [ingest(good[0]), bad, ingest(good[1]), ingest(good[2])])

    assert committer.fallbacks == 1
    assert isinstance(futures[1].exception(), InvalidInput)
    assert all(f.result().created for i, f in enumerate(futures) if i != 1)
    assert stored(pg, [o.number for o in [*good, doomed]]) == {
        o.number: (3, 1, False) for o in good
    }
    assert orders_stored(pg) == before + 3
    with pg.connect() as c:
        channel = select(func.count()).where(t.channels.c.id == new_channel.id)
        assert c.execute(channel).scalar_one() == 0


def test_a_new_order_of_a_group_waits_for_the_groups_insert_and_is_kept_only_if_committed(
    pg: Engine,
) -> None:
    """In a group of several, ingest writes no order row at once (ids reserved for the group,
    one insert at the end): a work that fails after adding its order fails alone, without
    sending its batch-mates back to one transaction each, and keeps nothing."""
    committer = GroupCommitter(pg, Published(), "ingest", max_batch=64)
    good = [example_order() for _ in range(3)]
    doomed = example_order()

    def bad(uow: UnitOfWork) -> None:
        with uow:
            uow.orders.add(doomed)
            raise InvalidInput("this one is wrong")

    before = orders_stored(pg)
    futures = in_one_group(committer, [ingest(good[0]), bad, ingest(good[1]), ingest(good[2])])

    assert committer.fallbacks == 0 and list(committer.sizes) == [1, 4]
    assert isinstance(futures[1].exception(), InvalidInput)
    assert stored(pg, [o.number for o in [*good, doomed]]) == {
        o.number: (3, 1, False) for o in good
    }
    assert orders_stored(pg) == before + 3


def test_an_order_already_stored_sends_its_group_back_and_is_seen_as_the_duplicate_it_is(
    pg: Engine,
) -> None:
    """The group bets its new orders are new; a redelivered one fails the group's insert on
    its unique key, and alone it takes the duplicate's path: stored once, split asked once."""
    published = Published()
    committer = GroupCommitter(pg, published, "ingest", max_batch=64)
    first = example_order()
    (earlier,) = in_one_group(committer, [ingest(first)])
    again = example_order(first.number, first_item_id=first.items[0].omnitron_id)
    others = [example_order() for _ in range(3)]

    futures = in_one_group(committer, [ingest(others[0]), ingest(again), *map(ingest, others[1:])])

    assert committer.fallbacks == 1
    assert futures[1].result() == services.Ingested(earlier.result().order_id, created=False)
    assert all(f.result().created for i, f in enumerate(futures) if i != 1)
    numbers = [o.number for o in [first, *others]]
    assert stored(pg, numbers) == {n: (3, 1, False) for n in numbers}
    split_asked = [m.command.payload()["order_id"] for m in published.messages]
    assert sorted(split_asked) == sorted(
        [earlier.result().order_id, *(f.result().order_id for i, f in enumerate(futures) if i != 1)]
    )


def test_a_work_that_leaves_without_commit_keeps_nothing(pg: Engine) -> None:
    committer = GroupCommitter(pg, Published(), "ingest", max_batch=64)
    order, kept = example_order(), example_order()

    def no_commit(uow: UnitOfWork) -> str:
        with uow:
            uow.orders.add(order)
        return "left"

    futures = in_one_group(committer, [no_commit, ingest(kept)])

    assert futures[0].result() == "left" and futures[1].result().created
    assert stored(pg, [order.number, kept.number]) == {kept.number: (3, 1, False)}


def test_a_group_whose_write_fails_runs_again_one_message_at_a_time(pg: Engine) -> None:
    """Two orders claim the same Omnitron item ids: the group's one INSERT of items fails, so
    every message runs alone; the first stores its order, the second is refused, the others
    are unaffected."""
    committer = GroupCommitter(pg, Published(), "ingest", max_batch=64)
    base = uuid.uuid4().int % 10**12
    first, clash = example_order(first_item_id=base), example_order(first_item_id=base)
    others = [example_order() for _ in range(3)]

    futures = in_one_group(committer, [ingest(o) for o in [first, *others, clash]])

    assert committer.fallbacks == 1
    assert futures[0].result().created and all(f.result().created for f in futures[1:4])
    assert isinstance(futures[4].exception(), ConflictingOrderItems)
    numbers = [o.number for o in [first, *others, clash]]
    assert stored(pg, numbers) == {o.number: (3, 1, False) for o in [first, *others]}


def test_the_same_order_twice_in_one_group_is_stored_and_split_once(pg: Engine) -> None:
    ingest_committer = GroupCommitter(pg, Published(), "ingest", max_batch=64)
    split_committer = GroupCommitter(pg, Published(), "split", max_batch=64)
    order = example_order()
    again = example_order(order.number, first_item_id=order.items[0].omnitron_id)

    created = in_one_group(ingest_committer, [ingest(order), ingest(again)])
    assert [f.result().created for f in created] == [True, False]
    order_id = created[0].result().order_id

    def split(uow: UnitOfWork) -> services.Split:
        return services.split_order(order_id, uow)

    splits = in_one_group(split_committer, [split, split, split], keys=[order_id] * 3)

    assert sum(f.result().created for f in splits) == 1
    with pg.connect() as c:
        merchant_orders = c.execute(
            select(func.count()).where(t.merchant_orders.c.order_id == order_id)
        ).scalar_one()
        packages = c.execute(
            select(func.count()).where(t.packages.c.order_id == order_id)
        ).scalar_one()
    assert (merchant_orders, packages) == (2, 2)
    assert stored(pg, [order.number]) == {order.number: (3, 1, True)}


def test_splits_in_one_group_match_splits_one_at_a_time(pg: Engine) -> None:
    """The same orders split in a group and one by one: the same rows, item for item."""
    grouped, alone = [example_order() for _ in range(5)], [example_order() for _ in range(5)]
    ids = {}
    for order in grouped + alone:
        ids[order.number] = services.ingest_order(order, SqlUnitOfWork(pg)).order_id
    committer = GroupCommitter(pg, Published(), "split", max_batch=64)

    def split(order: Order) -> Callable[[UnitOfWork], services.Split]:
        return lambda uow: services.split_order(ids[order.number], uow)

    in_one_group(committer, [split(o) for o in grouped], keys=[ids[o.number] for o in grouped])
    for order in alone:
        services.split_order(ids[order.number], SqlUnitOfWork(pg))

    def shape(order: Order) -> list[tuple[Any, ...]]:
        with SqlUnitOfWork(pg) as uow:
            merchant_orders = uow.merchant_orders.for_order(ids[order.number])
        suffix = len(order.number)
        return [
            (
                mo.reference[suffix:],
                mo.totals.as_dict(),
                [(i.reference.startswith(mo.reference), i.state, i.process) for i in mo.items],
                mo.package
                and (mo.package.status, [(p.quantity, p.status) for p in mo.package.items]),
            )
            for mo in merchant_orders
        ]

    def logged(order: Order) -> list[tuple[str, str | None]]:
        with pg.connect() as c:
            rows = c.execute(
                select(t.merchant_transition_log.c.event, t.merchant_transition_log.c.to_state)
                .where(t.merchant_transition_log.c.order_id == ids[order.number])
                .order_by(t.merchant_transition_log.c.id)
            ).all()
        return [(r.event, r.to_state) for r in rows]

    for mine, theirs in zip(grouped, alone, strict=True):
        assert shape(mine) == shape(theirs) and shape(mine)
        assert logged(mine) == logged(theirs) and logged(mine)


def test_what_a_work_binds_to_its_log_context_reaches_its_own_thread(pg: Engine) -> None:
    committer = GroupCommitter(pg, Published(), "split", max_batch=64)
    seen: dict[str, Any] = {}

    def bind(number: str) -> Callable[[UnitOfWork], None]:
        def work(uow: UnitOfWork) -> None:
            structlog.contextvars.bind_contextvars(order_number=number)

        return work

    def run_and_look(number: str) -> None:
        structlog.contextvars.clear_contextvars()
        committer.run(bind(number))
        seen[number] = structlog.contextvars.get_contextvars().get("order_number")

    threads = [threading.Thread(target=run_and_look, args=(f"N-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {f"N-{i}": f"N-{i}" for i in range(6)}
