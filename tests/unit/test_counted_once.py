"""A merchant's count needed by several requests at the same moment is read once (adapters/
queries/awaited.py): the others wait for that reading; if the request reading it goes away, a
waiting one reads it itself; a failed reading fails its waiters too."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from adapters.queries.awaited import _counted_once


def test_concurrent_needs_read_the_count_once() -> None:
    reads = 0

    async def read() -> Sequence[Any]:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.05)  # the statement's wait: the others arrive meanwhile
        return [(1234,)]

    async def run() -> list[int]:
        return await asyncio.gather(*(_counted_once(("k", 1), read) for _ in range(8)))

    assert asyncio.run(run()) == [1234] * 8
    assert reads == 1


def test_a_waiter_reads_it_when_the_reader_went_away() -> None:
    reads = 0

    async def read() -> Sequence[Any]:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.05)
        return [(7,)]

    async def run() -> int:
        leader = asyncio.ensure_future(_counted_once(("k", 2), read))
        await asyncio.sleep(0)  # the leader is reading
        waiter = asyncio.ensure_future(_counted_once(("k", 2), read))
        await asyncio.sleep(0.01)
        leader.cancel()  # its client went away
        return await waiter

    assert asyncio.run(run()) == 7
    assert reads == 2


def test_a_failed_reading_fails_its_waiters() -> None:
    async def read() -> Sequence[Any]:
        await asyncio.sleep(0.05)
        raise ConnectionError("database unavailable")

    async def run() -> list[Any]:
        return await asyncio.gather(
            *(_counted_once(("k", 3), read) for _ in range(3)), return_exceptions=True
        )

    answers = asyncio.run(run())
    assert all(isinstance(a, ConnectionError) for a in answers)
    with pytest.raises(ConnectionError):  # and nothing is left pending: the next one reads
        asyncio.run(_counted_once(("k", 3), read))
