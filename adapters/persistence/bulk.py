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

from sqlalchemy import Connection, Table, insert, text

from adapters.persistence.array_literal import Encoder, encoder_for
from adapters.persistence.driver import DriverStatement

# (table, columns, numbered) -> the statement and each column's array encoder
_STATEMENTS: dict[tuple[str, tuple[str, ...], bool], tuple[DriverStatement, list[Encoder]]] = {}


def _statement(
    connection: Connection, table: Table, names: tuple[str, ...], numbered: bool
) -> tuple[DriverStatement, list[Encoder]]:
    """Built once per (table, columns, kind), and run on the driver's cursor, prepared once per
    connection (driver.py). One array parameter per column, sent as an array literal
    (array_literal.py) that the server casts to the column's array type."""
    key = (table.name, names, numbered)
    found = _STATEMENTS.get(key)
    if found is None:
        dialect = connection.dialect
        arrays = ", ".join(
            f"CAST(${i + 1} AS {table.c[name].type.compile(dialect=dialect)}[])"
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
        found = DriverStatement(sql), [encoder_for(table.c[name].type) for name in names]
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


_RESERVE: dict[str, DriverStatement] = {}


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """`count` new ids from `table`'s sequence (PostgreSQL), in one statement: rows inserted
    later with these ids need no RETURNING. An id reserved and not used is a gap, as a rolled
    back insert leaves one."""
    statement = _RESERVE.get(table.name)
    if statement is None:
        sql = f"SELECT nextval('{_sequence(connection, table)}') FROM generate_series(1, $1)"
        statement = _RESERVE[table.name] = DriverStatement(sql)
    return statement.scalars(connection, count)


def insert_columns(connection: Connection, table: Table, columns: dict[str, list[Any]]) -> None:
    """Rows given column by column (`{name: values}`, every list as long): no dict per row,
    which cost more than the row's encoding for the group's widest tables."""
    if not _count(columns):
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), _rows(columns))
        return
    names = tuple(columns)
    statement, encoders = _statement(connection, table, names, numbered=False)
    pairs = zip(names, encoders, strict=True)
    statement.run(connection, *[encode(columns[name]) for name, encode in pairs])


def insert_columns_with_ids(
    connection: Connection, table: Table, columns: dict[str, list[Any]]
) -> list[int]:
    """As insert_columns, returning the new ids in the rows' order: one statement that numbers
    the rows (WITH ORDINALITY), takes an id per row from the table's sequence, inserts them and
    returns the ids by row number (RETURNING itself promises no order)."""
    if not _count(columns):
        return []
    if connection.dialect.name != "postgresql":
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(connection.execute(returning, _rows(columns)).scalars())
    names = tuple(columns)
    statement, encoders = _statement(connection, table, names, numbered=True)
    pairs = zip(names, encoders, strict=True)
    return statement.scalars(connection, *[encode(columns[name]) for name, encode in pairs])


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        insert_columns(connection, table, _columns(rows))


def insert_rows_with_ids(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert `rows` and return their new ids, in the rows' order (insert_columns_with_ids)."""
    return insert_columns_with_ids(connection, table, _columns(rows)) if rows else []


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in rows[0]}


def _rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _count(columns: dict[str, list[Any]]) -> int:
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0
