"""Many rows in one INSERT. On PostgreSQL the rows travel as one array per column
(`INSERT … SELECT FROM unnest(…)`): a parameter per column, not per value, which psycopg2
adapts in C, where SQLAlchemy's insertmanyvalues renders every row in Python (the poll's
profile: a third of a worker's CPU in its two log inserts). Elsewhere (SQLite) a plain
executemany."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert, text


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    arrays = ", ".join(
        f"CAST(:c{i} AS {table.c[name].type.compile(dialect=dialect)}[])"
        for i, name in enumerate(names)
    )
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
    connection.execute(
        text(statement), {f"c{i}": [row[name] for row in rows] for i, name in enumerate(names)}
    )
