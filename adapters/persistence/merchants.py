"""SQLAlchemy Core repositories of the merchant side: merchants, processes (transition rows,
read once per worker process and database) and the merchant transition log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Row, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.persistence import tables as t
from adapters.persistence.array_literal import texts
from adapters.persistence.bulk import insert_columns
from adapters.persistence.driver import DriverStatement
from adapters.persistence.keys import message_key
from adapters.persistence.repositories import now
from domain import ports
from domain.merchant_oms import (
    MerchantTransitionRecord,
    Outcome,
    Process,
    ProcessTransition,
    Source,
)
from domain.model import Merchant

# built once: a new select per call cost the split a cache key and a coercion each time
SELECT_MERCHANTS = select(
    t.merchants.c.reference, t.merchants.c.oms_process, t.merchants.c.name
).where(t.merchants.c.reference.in_(bindparam("references", expanding=True)))

# the same on the driver's cursor, prepared (driver.py): planning it cost more than running it
GET_MERCHANTS = DriverStatement(
    "SELECT reference, oms_process, name FROM merchants"
    " WHERE reference = ANY(CAST($1 AS VARCHAR[]))"
)


class SqlMerchantRepository(ports.MerchantRepository):
    def __init__(self, connection: Connection):
        self.connection = connection

    def get_or_add(self, reference: str, default_process: str) -> Merchant:
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        self.connection.execute(
            dialect.insert(t.merchants)
            .values(reference=reference, oms_process=default_process, created_at=now())
            .on_conflict_do_nothing(index_elements=["reference"])
        )
        row = self.connection.execute(
            select(t.merchants).where(t.merchants.c.reference == reference)
        ).one()
        return Merchant(row.reference, row.oms_process, row.name)

    def get_or_add_all(self, default_processes: dict[str, str]) -> dict[str, Merchant]:
        """One SELECT for the merchants already known (the usual case once they have been seen),
        one INSERT … ON CONFLICT DO NOTHING and one SELECT more only when some are new."""
        found = self._select(list(default_processes))
        missing = [r for r in default_processes if r not in found]
        if missing:
            dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
            created = now()
            self.connection.execute(
                dialect.insert(t.merchants).on_conflict_do_nothing(index_elements=["reference"]),
                [
                    {"reference": r, "oms_process": default_processes[r], "created_at": created}
                    for r in missing
                ],
            )
            found.update(self._select(missing))
        return {reference: found[reference] for reference in default_processes}

    def _select(self, references: list[str]) -> dict[str, Merchant]:
        rows: Any
        if self.connection.dialect.name == "postgresql":  # the split's, once per group
            rows = GET_MERCHANTS.rows(self.connection, texts(references))
        else:
            rows = self.connection.execute(SELECT_MERCHANTS, {"references": references})
        return {r.reference: Merchant(r.reference, r.oms_process, r.name) for r in rows}


# The processes' transitions are data that only a migration writes (0004), and a migration is
# deployed with a restart of the workers: a process reads each one once per database (engine),
# not in every unit of work (6 % of a poll worker's CPU read them again at every batch).
_PROCESSES: WeakKeyDictionary[Engine, dict[str, Process | None]] = WeakKeyDictionary()


def cached_processes(engine: Engine, names: Iterable[str]) -> dict[str, Process | None] | None:
    """The processes by name if every one is in the engine's cache (read once), else None."""
    cache = _PROCESSES.get(engine)
    if cache is None:
        return None
    try:
        return {name: cache[name] for name in sorted(names)}
    except KeyError:
        return None


class SqlMerchantProcessRepository(ports.MerchantProcessRepository):
    def __init__(self, connection: Connection):
        self.connection = connection
        self._cache = _PROCESSES.setdefault(connection.engine, {})

    def get(self, name: str) -> Process | None:
        if name not in self._cache:
            rows = self.connection.execute(
                select(t.merchant_transitions).where(t.merchant_transitions.c.process == name)
            ).all()
            transitions = [
                ProcessTransition(r.process, r.source_state, r.event, r.target_state, r.manual)
                for r in rows
            ]
            states = t.merchant_process_states
            reserved = self.connection.execute(
                select(states.c.state).where(states.c.process == name, states.c.reserved)
            ).scalars()
            self._cache[name] = Process(name, transitions, reserved) if transitions else None
        return self._cache[name]

    def names(self) -> list[str]:
        query = select(t.merchant_transitions.c.process).distinct()
        return sorted(self.connection.execute(query).scalars())


class SqlMerchantLog(ports.MerchantLog):
    def __init__(self, connection: Connection):
        self.connection = connection

    def add_all(self, records: list[MerchantTransitionRecord]) -> None:
        if not records:
            return
        insert_columns(
            self.connection,
            t.merchant_transition_log,
            {
                "order_id": [r.order_id for r in records],
                "merchant_order_reference": [r.merchant_order_reference for r in records],
                "item_reference": [r.item_reference for r in records],
                "event": [r.event for r in records],
                "source": [r.source.value for r in records],
                "outcome": [r.outcome.value for r in records],
                "from_state": [r.from_state for r in records],
                "to_state": [r.to_state for r in records],
                "reason": [r.reason for r in records],
                "message_id": [
                    None if r.message_id is None else message_key(r.message_id) for r in records
                ],
                "created_at": [r.at or now() for r in records],
                "body_sha256": [r.body_sha256 for r in records],
            },
        )

    def by_message(self, message_id: str) -> list[MerchantTransitionRecord]:
        log = t.merchant_transition_log
        rows = self.connection.execute(
            select(log).where(log.c.message_id == message_key(message_id)).order_by(log.c.id)
        )
        return [record_from(row) for row in rows]


def record_from(row: Row[Any]) -> MerchantTransitionRecord:
    """A merchant_transition_log row as a record."""
    return MerchantTransitionRecord(
        item_reference=row.item_reference,
        merchant_order_reference=row.merchant_order_reference,
        event=row.event,
        source=Source(row.source),
        outcome=Outcome(row.outcome),
        from_state=row.from_state,
        to_state=row.to_state,
        reason=row.reason,
        message_id=row.message_id,
        order_id=row.order_id,
        at=row.created_at,
        body_sha256=row.body_sha256,
    )


def assign_process(connection: Connection, reference: str, process: str) -> str | None:
    """Set a merchant's process (spec 10.1), creating the merchant when it is new; returns the
    process it had (None: created). Later merchant orders use it; existing items keep theirs."""
    before = connection.execute(
        select(t.merchants.c.oms_process).where(t.merchants.c.reference == reference)
    ).scalar_one_or_none()
    if before is None:
        connection.execute(
            insert(t.merchants).values(reference=reference, oms_process=process, created_at=now())
        )
    elif before != process:
        connection.execute(
            t.merchants.update()
            .where(t.merchants.c.reference == reference)
            .values(oms_process=process)
        )
    return before


def merchant_exists(engine: Engine, reference: str) -> bool:
    """Whether the merchant is known here (made when an order naming it was split, or by the
    process import)."""
    with engine.connect() as connection:
        found = connection.execute(
            select(t.merchants.c.reference).where(t.merchants.c.reference == reference)
        ).first()
    return found is not None


def process_exists(connection: Connection, name: str) -> bool:
    m, s = t.merchant_transitions.c, t.merchant_process_states.c
    transition = connection.execute(select(m.id).where(m.process == name).limit(1)).first()
    state = connection.execute(select(s.state).where(s.process == name).limit(1)).first()
    return transition is not None or state is not None


def add_processes(connection: Connection, processes: list[Process]) -> None:
    """New processes' transitions and every state's reserved flag (spec 9.2, 9.5)."""
    connection.execute(
        insert(t.merchant_transitions),
        [
            {
                "process": tr.process,
                "source_state": tr.source,
                "event": tr.event,
                "target_state": tr.target,
                "manual": tr.manual,
            }
            for process in processes
            for tr in process.transitions
        ],
    )
    connection.execute(
        insert(t.merchant_process_states),
        [
            {"process": process.name, "state": state, "reserved": process.is_reserved(state)}
            for process in processes
            for state in sorted(process.states)
        ],
    )
