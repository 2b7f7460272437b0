"""The poll's planner hands the rest of its cycle to a follow-up message through the outbox
(issue 12): each planner message claims a bounded part in one transaction, the chain covers
every due package once, and a redelivered planner message claims nothing twice, also when it
runs at the same time as the original."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from domain import poll_service
from tests.integration.test_polling import omnitron, packed_order

__all__ = ["omnitron"]  # the fixture, used by name

CYCLE = 2_000_000_000


def _deliver(engine: Engine, after: int, batch_size: int) -> list[tuple[str, dict[str, Any]]]:
    """Run one planner message; returns the messages its transaction put in the outbox."""
    with engine.connect() as c:
        last = c.execute(select(func.coalesce(func.max(t.outbox.c.id), 0))).scalar_one()
    poll_service.start_cycle(CYCLE, SqlUnitOfWork(engine), batch_size, after)
    with engine.connect() as c:
        rows = c.execute(
            select(t.outbox.c.command, t.outbox.c.payload)
            .where(t.outbox.c.id > last)
            .order_by(t.outbox.c.id)
        ).all()
    return [(r.command, r.payload) for r in rows]


def test_the_planner_chain_claims_every_due_package_once_in_bounded_parts(
    engine: Engine, omnitron: OmnitronSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(poll_service, "PLANNED_PER_MESSAGE", 4)
    mine = {p for _ in range(4) for p in packed_order(engine, omnitron)["packages"]}  # type: ignore[attr-defined]
    assert len(mine) == 8
    queue = [0]  # the planner messages' cursors, the tick's message first
    batches: list[list[int]] = []
    planners = 0
    redelivered = False
    while queue:
        after = queue.pop(0)
        sent = _deliver(engine, after, batch_size=1)
        planners += 1
        follow = [p for name, p in sent if name == "start_poll_cycle"]
        polls = [p for name, p in sent if name == "poll_packages"]
        ids = [i for p in polls for i in p["package_ids"]]
        assert len(ids) <= 4, "a planner message claims at most PLANNED_PER_MESSAGE batches"
        # a poll message carries BATCHES_PER_MESSAGE batches of batch_size (here 2 of 1)
        assert all(p["cycle"] == CYCLE and 1 <= len(p["package_ids"]) <= 2 for p in polls)
        assert len(polls) == (len(ids) + 1) // 2
        batches += [p["package_ids"] for p in polls]
        if polls:  # a follow-up, published before its batches, goes on after the last id
            assert sent[0][0] == "start_poll_cycle" and len(follow) == 1
            assert follow[0] == {"cycle": CYCLE, "after": polls[-1]["package_ids"][-1]}
            queue.append(follow[0]["after"])
        else:
            assert follow == [], "the chain ends where nothing is due"
        if after == 0 and not redelivered:  # the first message delivered twice (at-least-once)
            redelivered = True
            queue.append(0)
    claimed = [p for batch in batches for p in batch]
    assert len(claimed) == len(set(claimed)), "no package planned twice in the cycle"
    assert mine <= set(claimed), "no due package left out"
    assert planners >= len(mine) // 4
    with SqlUnitOfWork(engine) as uow:  # nothing due is left for this cycle
        assert uow.polls.claim(CYCLE, 1000) == []


def test_two_planner_chains_at_once_claim_each_package_once(
    postgres_url: str, omnitron: OmnitronSimulator
) -> None:
    """A redelivered planner message runs beside the original: both chains start at the same
    cursor, and the second claim of each part waits on the part's key, then gets nothing."""
    engine = make_engine(postgres_url, pool_size=4)
    cycle = CYCLE + 1  # none of this cycle's claims come from the other tests
    mine = {p for _ in range(4) for p in packed_order(engine, omnitron)["packages"]}  # type: ignore[attr-defined]
    start = threading.Barrier(2)
    claimed: list[list[int]] = [[], []]

    def chain(index: int) -> None:
        start.wait()
        after = 0
        while True:
            with SqlUnitOfWork(engine) as uow:
                ids = uow.polls.claim(cycle, 2, after)
                time.sleep(0.01)  # the other chain meets these rows' locks
                uow.commit()
            if not ids:
                return
            claimed[index] += ids
            after = ids[-1]

    threads = [threading.Thread(target=chain, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    both = claimed[0] + claimed[1]
    assert len(both) == len(set(both)), "a package claimed by both chains"
    assert mine <= set(both), "a due package left out"
