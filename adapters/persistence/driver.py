"""The group commit's hot statements on the driver's own cursor (PostgreSQL only).

Why: a group writes and reads with a dozen statements whose SQL never changes (the array
inserts of bulk.py, the group's reads). SQLAlchemy's `Connection.execute` spends ~40 µs of
Python per statement on them (cache key, parameter processing, `Row` objects) against ~13 µs
for psycopg2's cursor alone (measured on this machine), and the ingest profile had 18 % of the
workers' CPU inside it. They are also prepared once per connection, as prepared.py does for
the poll: the planning was 10-20 % of each group insert's time in PostgreSQL.

What stays as SQLAlchemy would do it: the statement runs on the connection's own DBAPI
connection, so in its transaction; a driver error is raised as SQLAlchemy's `DBAPIError`
subclass (IntegrityError, ...) naming the SQL and not the values, and a lost connection is
invalidated, as `Connection.execute` does. Rows come back as named tuples. Not done:
SQLAlchemy's execution events do not see these statements (nothing of ours listens to them but
the group's write counter, which counts the statements that wrote here through
`connection.info`)."""

from __future__ import annotations

import hashlib
import re
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from adapters.persistence.prepared import INFO_KEY, enabled, heal

WRITES_KEY = "oms_driver_writes"  # statements run here that changed rows, per connection
_ON_KEY = "oms_prepared_on"  # OMS_PREPARED_STATEMENTS, read once per database connection
_DOLLAR = re.compile(r"\$(\d+)")
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_LOCKS = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b", re.IGNORECASE)  # a read's


@dataclass
class DriverStatement:
    """One statement, `$1…$n` for its values (each sent as text: bulk.py's array literals, a
    number, a string)."""

    sql: str
    name: str = ""
    execute: str = ""  # EXECUTE name(%s, …)
    plain: str = ""  # the SQL with %(pN)s, when prepared statements are off
    count: int = 0
    writes: bool = False  # it inserts, updates or deletes rows
    _row: Any = field(default=None, repr=False)  # the named tuple type of its rows

    def __post_init__(self) -> None:
        if "%" in self.sql:
            raise ValueError("a driver statement's SQL may not contain '%'")
        numbers = {int(n) for n in _DOLLAR.findall(self.sql)}
        self.count = max(numbers, default=0)
        if numbers != set(range(1, self.count + 1)):
            raise ValueError(f"parameters are not $1…$n: {sorted(numbers)}")
        self.name = "oms_d_" + hashlib.sha1(self.sql.encode()).hexdigest()[:16]
        marks = ", ".join(["%s"] * self.count)
        self.execute = f"EXECUTE {self.name}({marks})" if self.count else f"EXECUTE {self.name}"
        self.plain = _DOLLAR.sub(r"%(p\1)s", self.sql)
        self.writes = _WRITES.search(_LOCKS.sub("", self.sql)) is not None

    def rows(self, connection: Connection, *values: Any) -> list[Any]:
        """Its rows, as named tuples (column names from the statement's result)."""
        return self._run(connection, values, fetch=True)

    def scalars(self, connection: Connection, *values: Any) -> list[Any]:
        return [row[0] for row in self._run(connection, values, fetch=True, named=False)]

    def run(self, connection: Connection, *values: Any) -> None:
        self._run(connection, values, fetch=False)

    def _run(
        self, connection: Connection, values: tuple[Any, ...], fetch: bool, named: bool = True
    ) -> list[Any]:
        if len(values) != self.count:
            raise TypeError(f"{self.count} values expected, {len(values)} given")
        info = connection.info
        on = info.get(_ON_KEY)
        if on is None:
            on = info[_ON_KEY] = enabled()
        cursor = connection.connection.cursor()
        done: set[str] = info.setdefault(INFO_KEY, set())
        try:
            if on:
                if self.name not in done:
                    cursor.execute(f"PREPARE {self.name} AS {self.sql}")
                    done.add(self.name)
                cursor.execute(self.execute, values)
            else:
                cursor.execute(self.plain, {f"p{i}": v for i, v in enumerate(values, 1)})
            if self.writes and cursor.rowcount:
                info[WRITES_KEY] = info.get(WRITES_KEY, 0) + 1
            if not fetch:
                return []
            found = cursor.fetchall()
            if not named:
                return list(found)
            if self._row is None:
                self._row = namedtuple("Row", [c[0] for c in cursor.description])  # type: ignore[misc]
            make = self._row._make
            return [make(row) for row in found]
        except connection.dialect.loaded_dbapi.Error as error:
            heal(done, self.name, error)
            raise _translated(connection, error, self.sql, values) from None
        finally:
            cursor.close()


def _translated(
    connection: Connection, error: Any, sql: str, values: tuple[Any, ...]
) -> DBAPIError:
    """As SQLAlchemy raises a driver error: its DBAPIError subclass, and the connection
    invalidated when the error says it is lost (the pool then opens a new one)."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
    if lost:
        connection.invalidate(error)
    wrapped = DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,  # as make_engine: the values are bodies (names, addresses)
        connection_invalidated=lost,
        dialect=dialect,
    )
    return wrapped
