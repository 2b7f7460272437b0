"""Package commands seen from outside: does a package exist, and what became of a command
(by its message id) — for `oms package command --wait` and the HTTP API's 204/400/202."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from adapters.persistence import tables as t
from domain.statuses import PackageStatus

APPLIED = "applied"
REJECTED = "rejected"


@dataclass(frozen=True)
class CommandOutcome:
    outcome: str  # applied | rejected
    reason: str
    package: str | None = None
    from_status: str | None = None
    to_status: str | None = None

    @property
    def applied(self) -> bool:
        return self.outcome == APPLIED

    def text(self) -> str:
        if self.package is None:  # dead-lettered before it reached a package
            return f"{self.outcome}: {self.reason}"
        moved = f" ({self.from_status} -> {self.to_status})" if self.to_status else ""
        detail = "" if self.applied else f": {self.reason}"
        return f"{self.outcome}: package {self.package}{moved}{detail}"


def _name(code: int | None) -> str | None:
    return None if code is None else PackageStatus(code).name


def command_outcome(engine: Engine, message_id: str) -> CommandOutcome | None:
    """The outcome once the command was handled or dead-lettered, else None. Each call takes a
    connection from the pool and gives it back: a caller that polls holds none while it waits."""
    with engine.connect() as connection:
        row = connection.execute(
            select(t.transition_log).where(t.transition_log.c.message_id == message_id)
        ).first()
        if row is not None:
            return CommandOutcome(
                row.outcome, row.reason, row.package_ref, _name(row.from_status),
                _name(row.to_status),
            )  # fmt: skip
        dead = _dead_letter_reason(connection, message_id)
    return None if dead is None else CommandOutcome(REJECTED, dead)


def dead_letter_reason(engine: Engine, message_id: str) -> str | None:
    """Why the message was dead-lettered, or None while it was not."""
    with engine.connect() as connection:
        return _dead_letter_reason(connection, message_id)


def _dead_letter_reason(connection: Connection, message_id: str) -> str | None:
    reason = connection.execute(
        select(t.dead_letters.c.reason).where(t.dead_letters.c.message_id == message_id)
    ).scalar()
    return None if reason is None else str(reason)


def package_exists(engine: Engine, package_id: int) -> bool:
    with engine.connect() as connection:
        found = connection.execute(
            select(t.packages.c.id).where(t.packages.c.id == package_id)
        ).first()
    return found is not None


def packages_named(engine: Engine, key: str, channel_id: int | None) -> list[tuple[int, int]]:
    """(id, channel id) of the packages a command may name: an id (digits), else a package
    number, which is unique per channel only; limited to one channel when one is given."""
    p = t.packages.c
    query = select(p.id, p.channel_id).order_by(p.id)
    if key.isdigit():
        if int(key) >= 2**63:  # no such id: BIGINT would refuse the value
            return []
        query = query.where(p.id == int(key))
    else:
        query = query.where(p.number == key)
    if channel_id is not None:
        query = query.where(p.channel_id == channel_id)
    with engine.connect() as connection:
        return [(row.id, row.channel_id) for row in connection.execute(query)]
