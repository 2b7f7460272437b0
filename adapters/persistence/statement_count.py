"""A counting hook: how many SQL statements an engine sends (SQLAlchemy's
`before_cursor_execute` event), for the read path's statement budget (issue 22) — a test
asserts it, `oms bench api` prints it per request. Statements the driver runs on its own
(psycopg2's BEGIN, a ROLLBACK on a connection's return) are not cursor executes: they are
not counted, and the read engine (`make_engine(…, autocommit=True)`) sends none."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Engine, event

from adapters.persistence.async_reads import AsyncReads


class StatementCounter:
    """`with StatementCounter(engine, …) as counted: ...; counted.statements` (the SQL texts
    these engines sent, in order). An AsyncReads pool (async_reads.py; None is skipped) counts
    through its own listeners: its connections are not SQLAlchemy's."""

    def __init__(self, *engines: Engine | AsyncReads | None) -> None:
        found = list(dict.fromkeys(e for e in engines if e is not None))
        self.engines = [e for e in found if isinstance(e, Engine)]
        self.pools = [e for e in found if isinstance(e, AsyncReads)]
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._seen)
        for pool in self.pools:
            pool.listeners.append(self.statements.append)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._seen)
        for pool in self.pools:
            pool.listeners.remove(self.statements.append)
