"""The planner's poll messages: two batches each, one when two would pass the contract's bound
on a message's packages (schemas/poll.py), never more."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain import poll_service
from domain.messages import POLL_MESSAGE_MAX_PACKAGES, PollPackages, StartPollCycle
from domain.polling import PolledMerchantItem, PolledPackage, Resolution
from domain.ports import PollRepository
from tests.unit.fakes import FakeUnitOfWork


class DuePackages(PollRepository):
    """`count` due packages with ids 1…count; only the claim is asked for."""

    def __init__(self, count: int):
        self.count = count

    def claim(self, cycle: int, limit: int, after: int = 0) -> list[int]:
        return list(range(after + 1, min(self.count, after + limit) + 1))

    def open_cycle(self, cycle: int, when: datetime) -> bool:
        raise NotImplementedError

    def load(self, package_ids: list[int]) -> list[PolledPackage]:
        raise NotImplementedError

    def move(self, moves: list[Resolution], when: datetime) -> list[Resolution]:
        raise NotImplementedError

    def merchant_items(self, package_ids: list[int]) -> list[PolledMerchantItem]:
        raise NotImplementedError

    def save_merchant_states(self, states: dict[int, str]) -> None:
        raise NotImplementedError


@pytest.mark.parametrize(
    ("batch_size", "sizes"),
    [(50, [100] * 10), (7, [14] * 10), (500, [1000] * 10), (600, [600] * 20), (1000, [1000] * 20)],
)
def test_a_message_carries_two_batches_within_the_contracts_bound(
    batch_size: int, sizes: list[int]
) -> None:
    uow = FakeUnitOfWork()
    uow.polls = DuePackages(10**6)  # type: ignore[misc]
    claimed = poll_service.start_cycle(7, uow, batch_size)
    messages = [m.command for m in uow.outbox.messages]
    assert isinstance(messages[0], StartPollCycle) and messages[0].after == claimed
    polls = [m for m in messages if isinstance(m, PollPackages)]
    assert [len(m.package_ids) for m in polls] == sizes
    assert max(sizes) <= POLL_MESSAGE_MAX_PACKAGES
    assert [i for m in polls for i in m.package_ids] == list(range(1, claimed + 1))
