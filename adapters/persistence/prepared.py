"""Server-side prepared statements on PostgreSQL: a statement that runs thousands of times is
planned once per database connection (`PREPARE`), then only executed (`EXECUTE`).

Why: psycopg2 sends every statement as text with its values in it, so PostgreSQL parses and
plans it at every call. For the poll's five-table joins the planning cost more than running
them: measured with pg_stat_statements over one 100,000-package cycle, 23 s of planning against
70 s of execution, the merchant items' join alone 16.5 s (docs/benchmarks.md, issue 12).

How: the SQLAlchemy Core statement is compiled once for PostgreSQL, its named parameters become
`$1…$n`, and the SQL is prepared on a connection the first time that connection runs it (the
names already prepared are kept in the connection's `info`, which SQLAlchemy empties when it
replaces the database connection; a `PREPARE` survives a rolled-back transaction). After five
executions PostgreSQL keeps a generic plan when it costs no more than the custom ones.

Not through a transaction-pooling PgBouncer (a prepared statement lives in one server session,
and the next transaction may get another): with `OMS_DATABASE_POOLER=pgbouncer` they are off,
as with `OMS_PREPARED_STATEMENTS=false`, and the statements run as plain SQL (spec 13). Direct
connections keep them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from adapters.persistence.array_literal import ints
from adapters.settings import flag

DUPLICATE, MISSING = "42P05", "26000"  # duplicate_prepared_statement, invalid_sql_statement_name
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
INFO_KEY = "oms_prepared"


def heal(done: set[str], name: str, error: BaseException) -> None:
    """After a failed PREPARE or EXECUTE of `name`: make the connection's record agree with the
    server. An exception raised into the thread between a PREPARE and its record (dramatiq's
    time limit is raised asynchronously) leaves a statement prepared but not recorded, and every
    later PREPARE of it on that connection would fail as a duplicate; a record the server lacks
    would fail every EXECUTE. Either now fails one transaction, and the next one works."""
    code = getattr(getattr(error, "orig", error), "pgcode", None)
    if code == DUPLICATE:
        done.add(name)
    elif code == MISSING:
        done.discard(name)


def enabled() -> bool:
    """OMS_PREPARED_STATEMENTS (default true) unless OMS_DATABASE_POOLER=pgbouncer, read where a
    repository is made: a repository has a connection, not the settings."""
    pooled = os.environ.get("OMS_DATABASE_POOLER", "").strip().lower() == "pgbouncer"
    return flag("OMS_PREPARED_STATEMENTS", True) and not pooled


@dataclass(frozen=True)
class Prepared:
    """One statement, prepared under `name` on each connection that runs it."""

    name: str
    sql: str  # with $1…$n
    parameters: tuple[str, ...]  # the parameter of $1, $2, …

    @classmethod
    def of(cls, name: str, statement: Executable) -> Prepared:
        compiled = statement.compile(dialect=postgresql.dialect())  # type: ignore[attr-defined]
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            key = match.group(1)
            constant = compiled.params.get(key)
            if constant is not None:  # the statement's own value stays in it, as a literal:
                return _literal(constant)  # a partial index's predicate still matches it
            if key not in order:
                order.append(key)
            return f"${order.index(key) + 1}"

        def members(match: re.Match[str]) -> str:  # a literal IN list: its members, inline
            return ", ".join(_literal(v) for v in compiled.params[match.group(1)])

        sql = POSTCOMPILE.sub(members, PLACEHOLDER.sub(number, compiled.string))
        return cls(name, sql, tuple(order))

    def call(self, values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The EXECUTE and its arguments. A list value is sent as an integer array literal (the
        statements here take id sets)."""
        arguments = {
            p: ints(values[p]) if isinstance(values[p], list | tuple) else values[p]
            for p in self.parameters
        }
        placeholders = ", ".join(f"%({p})s" for p in self.parameters)
        call = f"EXECUTE {self.name}({placeholders})" if placeholders else f"EXECUTE {self.name}"
        return call, arguments

    def run(self, connection: Connection, values: Mapping[str, Any]) -> CursorResult[Any]:
        """Execute on this connection, preparing it first if the connection has not yet."""
        done: set[str] = connection.info.setdefault(INFO_KEY, set())
        call, arguments = self.call(values)
        try:
            if self.name not in done:
                connection.exec_driver_sql(f"PREPARE {self.name} AS {self.sql}")
                done.add(self.name)
            return connection.exec_driver_sql(call, arguments)
        except DBAPIError as error:
            heal(done, self.name, error)
            raise

    def fetch(
        self, connection: Connection, values: Mapping[str, Any]
    ) -> tuple[tuple[str, ...], Sequence[Any]]:
        """`run`'s rows (and column names) straight from the driver's cursor, without
        SQLAlchemy's result object: for an autocommit read connection only (`make_engine(…,
        autocommit=True)`), where no SQLAlchemy transaction needs to see the statement. The
        values are the same: a driver-level statement has no SQLAlchemy type processing either
        way. A driver error is raised as SQLAlchemy's (the API maps those to 503/500), and a
        connection the error shows dead is invalidated, as SQLAlchemy would."""
        done: set[str] = connection.info.setdefault(INFO_KEY, set())
        call, arguments = self.call(values)
        dbapi = connection.dialect.loaded_dbapi
        cursor = connection.connection.cursor()
        try:
            if self.name not in done:
                cursor.execute(f"PREPARE {self.name} AS {self.sql}")
                done.add(self.name)
            cursor.execute(call, arguments)
            names = tuple(column[0] for column in cursor.description)
            return names, cursor.fetchall()
        except dbapi.Error as error:
            dead = connection.dialect.is_disconnect(
                error, connection.connection.dbapi_connection, cursor
            )
            wrapped = DBAPIError.instance(
                call, None, error, dbapi.Error, hide_parameters=True,
                connection_invalidated=dead, dialect=connection.dialect,
            )  # fmt: skip
            heal(done, self.name, wrapped)
            if dead:
                connection.invalidate(wrapped)
            raise wrapped from error
        finally:
            cursor.close()


def _literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"no literal for {value!r} in a prepared statement")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"
