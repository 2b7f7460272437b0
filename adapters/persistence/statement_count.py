"""A counting hook: how many SQL statements an engine sends (SQLAlchemy's
`before_cursor_execute` event), for the read path's statement budget (issue 22) — a test
asserts it, `oms bench api` prints it per request. Statements the driver runs on its own
(psycopg2's BEGIN, a ROLLBACK on a connection's return) are not cursor executes: they are
not counted, and the read engine (engine.reads_of) sends none."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Engine, event


class StatementCounter:
    """`with StatementCounter(engine) as counted: ...; counted.statements` (the SQL texts)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)
