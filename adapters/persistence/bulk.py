"""Many rows in one INSERT. On PostgreSQL the rows travel as one array per column
(`INSERT … SELECT FROM unnest(…)`): a parameter per column, not per value, which psycopg2
adapts in C, where SQLAlchemy's insertmanyvalues renders every row in Python (the poll's
profile: a third of a worker's CPU in its two log inserts). Elsewhere (SQLite) a plain
executemany.

Rows whose ids the caller needs (`insert_rows_with_ids`) are numbered, take their ids from the
table's sequence and come back in their order, in the same one statement: no RETURNING whose
row order PostgreSQL does not promise, and no per-row rendering in Python."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Connection, Table, TextClause, insert, text

# (table, columns, numbered) -> the statement and which of its columns are JSON
_STATEMENTS: dict[tuple[str, tuple[str, ...], bool], tuple[TextClause, list[bool]]] = {}


def _statement(
    connection: Connection, table: Table, names: tuple[str, ...], numbered: bool
) -> tuple[TextClause, list[bool]]:
    """Built once per (table, columns, kind): a new text() per call would cost a cache key and
    a compile each time. One typed array parameter per column; psycopg2 adapts no dict, so JSON
    values travel as their text, cast to JSON by the server."""
    key = (table.name, names, numbered)
    found = _STATEMENTS.get(key)
    if found is None:
        dialect = connection.dialect
        arrays = ", ".join(
            f"CAST(:c{i} AS {table.c[name].type.compile(dialect=dialect)}[])"
            for i, name in enumerate(names)
        )
        columns = ", ".join(names)
        if numbered:
            aliases = ", ".join(f"c{i}" for i in range(len(names)))
            # the sequence's name, looked up once (per row, the lookup cost as much as the insert)
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
            ).scalar_one()
            sql = (
                f"WITH numbered AS (SELECT nextval('{sequence}')"
                f" AS id, u.* FROM unnest({arrays}) WITH ORDINALITY AS u({aliases}, row_number)),"
                f" inserted AS (INSERT INTO {table.name} (id, {columns})"
                f" SELECT id, {aliases} FROM numbered)"
                " SELECT id FROM numbered ORDER BY row_number"
            )
        else:
            sql = f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})"
        found = text(sql), [isinstance(table.c[name].type, JSON) for name in names]
        _STATEMENTS[key] = found
    return found


def _columns(
    rows: list[dict[str, Any]], names: tuple[str, ...], is_json: list[bool]
) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {}
    for i, name in enumerate(names):
        values = [row[name] for row in rows]
        if is_json[i]:
            values = [None if v is None else json.dumps(v) for v in values]
        columns[f"c{i}"] = values
    return columns


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = tuple(rows[0])
    statement, is_json = _statement(connection, table, names, numbered=False)
    connection.execute(statement, _columns(rows, names, is_json))


def insert_rows_with_ids(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert `rows` and return their new ids, in the rows' order: one statement that numbers
    the rows (WITH ORDINALITY), takes an id per row from the table's sequence, inserts them and
    returns the ids by row number (RETURNING itself promises no order)."""
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(connection.execute(returning, rows).scalars())
    names = tuple(rows[0])
    statement, is_json = _statement(connection, table, names, numbered=True)
    return list(connection.execute(statement, _columns(rows, names, is_json)).scalars())
