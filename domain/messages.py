"""Commands that one stage hands to the next through the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Command:
    name: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class SplitOrder(Command):
    name: ClassVar[str] = "split_order"
    order_id: int

    def payload(self) -> dict[str, Any]:
        return {"order_id": self.order_id}


@dataclass(frozen=True)
class OutboxMessage:
    """A command waiting to be published after the transaction that wrote it commits."""

    command: Command
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class SendStatusReport(Command):
    name: ClassVar[str] = "send_status_report"
    report_id: int

    def payload(self) -> dict[str, Any]:
        return {"report_id": self.report_id}


@dataclass(frozen=True)
class StartPollCycle(Command):
    name: ClassVar[str] = "start_poll_cycle"
    cycle: int
    after: int = 0  # the planner's cursor: the cycle goes on with the due packages above it

    def payload(self) -> dict[str, Any]:
        return {"cycle": self.cycle, "after": self.after} if self.after else {"cycle": self.cycle}


POLL_MESSAGE_MAX_PACKAGES = 1000  # the poll_packages contract's bound (schemas/poll.py)


@dataclass(frozen=True)
class PollPackages(Command):
    name: ClassVar[str] = "poll_packages"
    cycle: int
    package_ids: tuple[int, ...]

    def payload(self) -> dict[str, Any]:
        return {"cycle": self.cycle, "package_ids": list(self.package_ids)}
