"""What the relay sent is marked even when a time limit interrupts its publish loop: otherwise
the sweeper sends those messages a second time."""

from __future__ import annotations

from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import create_engine

from adapters.messaging.outbox_relay import OutboxRelay, PublishedMarks
from domain.messages import OutboxMessage, SplitOrder


class Interrupted(BaseException):
    """Like dramatiq's TimeLimitExceeded: not an Exception."""


class RecordedMarks(PublishedMarks):
    def __init__(self) -> None:
        super().__init__(create_engine("sqlite://"))
        self.marked: list[str] = []

    def add(self, message_ids: list[str]) -> None:
        self.marked += message_ids


class RelayCutOffAtTheSecondMessage(OutboxRelay):
    def __init__(self) -> None:
        super().__init__(create_engine("sqlite://"), StubBroker())
        self.marks = self.recorded = RecordedMarks()
        self.calls = 0

    def _send(self, message_id: str, command: str, payload: dict[str, Any]) -> None:
        self.calls += 1
        if self.calls == 2:
            raise Interrupted()


def test_a_time_limit_in_the_publish_loop_still_marks_what_was_sent() -> None:
    relay = RelayCutOffAtTheSecondMessage()
    messages = [OutboxMessage(SplitOrder(order_id=n)) for n in (1, 2, 3)]

    with pytest.raises(Interrupted):
        relay.publish_committed(messages)

    assert relay.recorded.marked == [messages[0].message_id]
