"""The read models' statements, prepared on PostgreSQL (issue 22): each is planned once per
database connection (`PREPARE`, then `EXECUTE`: prepared.py), because planning the read
models' six-table joins cost several times their execution (EXPLAIN ANALYZE on 100,000 orders:
planning 2.3 ms, execution 0.3 ms for the order document). They run through SQLAlchemy's
`exec_driver_sql`, so the statement-counting hook sees them (a connection's first use of one
adds its PREPARE). On SQLite, or with OMS_PREPARED_STATEMENTS=false, the statement runs as
itself."""

from __future__ import annotations

import hashlib
from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Executable

from adapters.persistence.engine import DRIVER_LEVEL
from adapters.persistence.prepared import Prepared, enabled


def _driver_level(connection: Connection) -> bool:
    """The read engine's connections, unless something listens to their statements (the
    statement counter of issue 22's budget): then SQLAlchemy runs them, so listeners see them."""
    return bool(connection.get_execution_options().get(DRIVER_LEVEL)) and not (
        connection._has_events or connection.engine._has_events
    )


_ON_KEY = "oms_prepared_reads_on"  # OMS_PREPARED_STATEMENTS, read once per connection


class ReadStatement:
    def __init__(self, statement: Executable, postgresql: Executable | None = None) -> None:
        """`statement` for every database; `postgresql`, when given, the same read written for
        PostgreSQL (prepared)."""
        self.statement = statement
        self.postgresql = postgresql if postgresql is not None else statement
        self._prepared: Prepared | None = None
        self._row_types: dict[tuple[str, ...], type[Any]] = {}

    def _row_type(self, names: tuple[str, ...]) -> type[Any]:
        """Rows read by name and position, like SQLAlchemy's (a name that is not an identifier
        is read by position only)."""
        found = self._row_types.get(names)
        if found is None:
            found = self._row_types[names] = namedtuple("Row", names, rename=True)
        return found

    def prepared(self) -> Prepared:
        if self._prepared is None:
            made = Prepared.of("", self.postgresql)
            name = "oms_r_" + hashlib.sha1(made.sql.encode()).hexdigest()[:16]
            self._prepared = Prepared(name, made.sql, made.parameters)
        return self._prepared

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> Sequence[Any]:
        if connection.dialect.name == "postgresql":
            on = connection.info.get(_ON_KEY)
            if on is None:
                on = connection.info[_ON_KEY] = enabled()
            if on:
                if _driver_level(connection):
                    names, rows = self.prepared().fetch(connection, values)
                    make = self._row_type(names)._make
                    return [make(row) for row in rows]
                return self.prepared().run(connection, values).all()
            return connection.execute(self.postgresql, dict(values)).all()
        return connection.execute(self.statement, dict(values)).all()
