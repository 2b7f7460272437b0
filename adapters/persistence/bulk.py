"""Many rows in one INSERT. On PostgreSQL the rows travel as one array per column
(`INSERT … SELECT FROM unnest(…)`): a parameter per column, not per value, which psycopg2
adapts in C, where SQLAlchemy's insertmanyvalues renders every row in Python (the poll's
profile: a third of a worker's CPU in its two log inserts). Elsewhere (SQLite) a plain
executemany.

Rows whose ids the caller needs (`insert_rows_with_ids`) take them from the table's sequence
first, one `nextval` per row in one statement, and are then inserted with them: no RETURNING
whose row order PostgreSQL does not promise, and no per-row rendering in Python."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Connection, Table, TextClause, insert, text

_INSERTS: dict[tuple[str, tuple[str, ...]], tuple[TextClause, list[bool]]] = {}
_NEXT_IDS: dict[str, TextClause] = {}


def _unnest_insert(connection: Connection, table: Table, names: tuple[str, ...]) -> Any:
    """The statement for these columns, built once per (table, columns): a new text() per call
    would cost a cache key and a compile each time."""
    key = (table.name, names)
    found = _INSERTS.get(key)
    if found is None:
        dialect = connection.dialect
        arrays = ", ".join(
            f"CAST(:c{i} AS {table.c[name].type.compile(dialect=dialect)}[])"
            for i, name in enumerate(names)
        )
        statement = text(
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
        )
        # psycopg2 adapts no dict: JSON values travel as their text, cast to JSON by the server
        found = statement, [isinstance(table.c[name].type, JSON) for name in names]
        _INSERTS[key] = found
    return found


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = tuple(rows[0])
    statement, is_json = _unnest_insert(connection, table, names)
    columns: dict[str, list[Any]] = {}
    for i, name in enumerate(names):
        values = [row[name] for row in rows]
        if is_json[i]:
            values = [None if v is None else json.dumps(v) for v in values]
        columns[f"c{i}"] = values
    connection.execute(statement, columns)


def insert_rows_with_ids(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert `rows` and return their new ids, in the rows' order."""
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(connection.execute(returning, rows).scalars())
    statement = _NEXT_IDS.get(table.name)
    if statement is None:
        statement = text(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            "FROM generate_series(1, :n)"
        )
        _NEXT_IDS[table.name] = statement
    ids = list(connection.execute(statement, {"n": len(rows)}).scalars())
    insert_rows(connection, table, [{"id": new, **row} for new, row in zip(ids, rows, strict=True)])
    return ids
