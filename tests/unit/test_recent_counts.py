"""The merchant order list's count: exact under a thousand, at most a second old above."""

from __future__ import annotations

import pytest

from adapters.queries import merchant_reads
from adapters.queries.merchant_reads import RecentCounts


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(merchant_reads.time, "monotonic", lambda: now[0])
    return now


def test_a_small_count_is_never_kept(clock: list[float]) -> None:
    counts = RecentCounts(large=1000)
    counts.put("k", 999)
    assert counts.get("k") is None


def test_a_large_count_is_kept_for_a_second_then_read_again(clock: list[float]) -> None:
    counts = RecentCounts(large=1000, seconds=1.0)
    counts.put("k", 100_000)
    assert counts.get("k") == 100_000
    assert counts.get("other filters") is None
    clock[0] += 1.0
    assert counts.get("k") == 100_000
    clock[0] += 0.001
    assert counts.get("k") is None


def test_many_keys_never_grow_the_store_past_its_size(clock: list[float]) -> None:
    counts = RecentCounts(large=1, size=10)
    for n in range(25):
        counts.put(n, 5)
    assert len(counts._kept) <= 10
    assert counts.get(24) == 5
