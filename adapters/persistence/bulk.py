"""Many rows in one INSERT. On PostgreSQL the rows travel as one array per column
(`INSERT … SELECT FROM unnest(…)`): a parameter per column, not per value, each sent as one
array literal (array_literal.py), where SQLAlchemy's insertmanyvalues renders every row in
Python (the poll's profile: a third of a worker's CPU in its two log inserts). Elsewhere
(SQLite) a plain executemany.

Rows whose ids the caller needs (`insert_rows_with_ids`) are numbered, take their ids from the
table's sequence and come back in their order, in the same one statement: no RETURNING whose
row order PostgreSQL does not promise, and no per-row rendering in Python."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, TextClause, insert, text

from adapters.persistence.array_literal import Encoder, encoder_for

# (table, columns, numbered) -> the statement and each column's array encoder
_STATEMENTS: dict[tuple[str, tuple[str, ...], bool], tuple[TextClause, list[Encoder]]] = {}


def _statement(
    connection: Connection, table: Table, names: tuple[str, ...], numbered: bool
) -> tuple[TextClause, list[Encoder]]:
    """Built once per (table, columns, kind): a new text() per call would cost a cache key and
    a compile each time. One array parameter per column, sent as an array literal
    (array_literal.py) that the server casts to the column's array type."""
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
            sequence = _sequence(connection, table)
            sql = (
                f"WITH numbered AS (SELECT nextval('{sequence}')"
                f" AS id, u.* FROM unnest({arrays}) WITH ORDINALITY AS u({aliases}, row_number)),"
                f" inserted AS (INSERT INTO {table.name} (id, {columns})"
                f" SELECT id, {aliases} FROM numbered)"
                " SELECT id FROM numbered ORDER BY row_number"
            )
        else:
            sql = f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})"
        found = text(sql), [encoder_for(table.c[name].type) for name in names]
        _STATEMENTS[key] = found
    return found


_SEQUENCES: dict[str, str] = {}


def _sequence(connection: Connection, table: Table) -> str:
    """The name of the sequence behind `table.id`, looked up once per table (per row, the lookup
    cost as much as the insert)."""
    found = _SEQUENCES.get(table.name)
    if found is None:
        found = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        ).scalar_one()
        _SEQUENCES[table.name] = found
    return found


_RESERVE: dict[str, TextClause] = {}


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """`count` new ids from `table`'s sequence (PostgreSQL), in one statement: rows inserted
    later with these ids need no RETURNING. An id reserved and not used is a gap, as a rolled
    back insert leaves one."""
    statement = _RESERVE.get(table.name)
    if statement is None:
        sql = f"SELECT nextval('{_sequence(connection, table)}') FROM generate_series(1, :count)"
        statement = _RESERVE[table.name] = text(sql)
    return list(connection.execute(statement, {"count": count}).scalars())


def _columns(
    rows: list[dict[str, Any]], names: tuple[str, ...], encoders: list[Encoder]
) -> dict[str, Any]:
    return {
        f"c{i}": encode([row[name] for row in rows])
        for i, (name, encode) in enumerate(zip(names, encoders, strict=True))
    }


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = tuple(rows[0])
    statement, encoders = _statement(connection, table, names, numbered=False)
    connection.execute(statement, _columns(rows, names, encoders))


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
    statement, encoders = _statement(connection, table, names, numbered=True)
    return list(connection.execute(statement, _columns(rows, names, encoders)).scalars())
