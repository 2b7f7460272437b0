"""Prepared statements (adapters/persistence/prepared.py) on the real PostgreSQL: prepared once
per database connection, kept across transactions (rolled back ones too), prepared again on a
connection that replaced an invalidated one, the statement's own values kept in its text."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, bindparam, select, text
from sqlalchemy.exc import DBAPIError

from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.poll_repository import PREPARED, SqlPollRepository
from adapters.persistence.prepared import INFO_KEY, Prepared
from adapters.persistence.prepared_reads import ReadStatement, _driver_level
from adapters.persistence.statement_count import StatementCounter


@pytest.fixture
def engine(postgres_url: str) -> Engine:
    return make_engine(postgres_url, pool_size=1)


def prepared_here(connection: object) -> set[str]:
    """The names prepared on this connection's database session (test_driver.py too)."""
    rows = connection.execute(text("SELECT name FROM pg_prepared_statements"))  # type: ignore[attr-defined]
    return set(rows.scalars())


def test_a_statement_is_prepared_once_per_connection_and_outlives_a_rollback(
    engine: Engine,
) -> None:
    statement = Prepared.of(
        "oms_test_numbers",
        select(text("n")).select_from(
            text("generate_series(1, 10) n WHERE n = ANY(CAST(:ids AS BIGINT[])) AND n > :low")
        ),
    )
    assert statement.parameters == ("ids", "low")
    with engine.connect() as c:
        assert statement.run(c, {"ids": [2, 3, 4], "low": 2}).scalars().all() == [3, 4]
        c.rollback()  # a PREPARE is no part of the transaction
        assert "oms_test_numbers" in prepared_here(c)
        assert statement.run(c, {"ids": (7,), "low": 0}).scalars().all() == [7]
        assert c.info[INFO_KEY] == {"oms_test_numbers"}
    with engine.connect() as c:  # the pool's same database connection: not prepared again
        assert statement.run(c, {"ids": [9], "low": 1}).scalars().all() == [9]
        c.invalidate()  # the database connection is replaced, and what it had prepared is gone
    with engine.connect() as c:
        assert INFO_KEY not in c.info and "oms_test_numbers" not in prepared_here(c)
        assert statement.run(c, {"ids": [1], "low": 0}).scalars().all() == [1]
    engine.dispose()


def test_the_statements_own_values_stay_in_its_text() -> None:
    """A literal IN list and a compared constant are written into the prepared SQL, so a partial
    index whose predicate names them (the poll's due index) still serves the generic plan."""
    claim = PREPARED["claim"]
    assert "packages.status IN (500, 700, 720)" in claim.sql
    assert claim.parameters == ("after", "limit")
    statement = Prepared.of(
        "oms_test_quotes",
        select(t.channels.c.id).where(
            t.channels.c.name.in_(["it's", "b"]), t.channels.c.id > bindparam("low")
        ),
    )
    assert "IN ('it''s', 'b')" in statement.sql and statement.parameters == ("low",)


def test_the_poll_repository_runs_them_and_can_be_told_not_to(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as c:
        assert SqlPollRepository(c).load([-1]) == []
        assert "oms_poll_load" in prepared_here(c)
    engine.dispose()
    monkeypatch.setenv("OMS_PREPARED_STATEMENTS", "false")  # behind a transaction pooler
    with engine.connect() as c:
        repository = SqlPollRepository(c)
        assert repository.load([-1]) == []
        assert not prepared_here(c)
    engine.dispose()


def test_a_prepare_the_connection_did_not_record_fails_one_transaction_only(
    engine: Engine,
) -> None:
    """As driver.py's: the record follows the server after one failed transaction."""
    statement = Prepared.of("oms_test_unrecorded", select(text("1 AS one")))
    with engine.connect() as c:
        with c.begin():
            c.exec_driver_sql(f"PREPARE {statement.name} AS {statement.sql}")  # unrecorded
        with pytest.raises(DBAPIError, match="already exists"), c.begin():
            statement.run(c, {})
        with c.begin():
            assert statement.run(c, {}).scalar() == 1
    engine.dispose()


NUMBERS = ReadStatement(
    select(text("n AS number"), text("n * 2 AS twice"), text("n::text || '€'")).select_from(
        text("generate_series(1, 10) n WHERE n > :low")
    )
)


def test_the_read_engine_reads_at_driver_level_the_same_rows(postgres_url: str) -> None:
    """The API's autocommit read engine gives ReadStatement's rows from the driver's cursor:
    the same values, by name and by position, as SQLAlchemy's result gives them; while a
    listener watches the engine (the statement counter), SQLAlchemy runs them so it sees them."""
    reads = make_engine(postgres_url, pool_size=1, autocommit=True)
    plain = make_engine(postgres_url, pool_size=1)
    try:
        with reads.connect() as c:
            assert _driver_level(c)
            fast = NUMBERS.rows(c, {"low": 7})
        with plain.connect() as c:
            assert not _driver_level(c)
            slow = NUMBERS.rows(c, {"low": 7})
        assert [tuple(r) for r in fast] == [tuple(r) for r in slow] == [
            (8, 16, "8€"), (9, 18, "9€"), (10, 20, "10€"),
        ]  # fmt: skip
        assert [(r.number, r.twice) for r in fast] == [(r.number, r.twice) for r in slow]
        with StatementCounter(reads) as counted, reads.connect() as c:
            assert not _driver_level(c)
            assert len(NUMBERS.rows(c, {"low": 9})) == 1
        assert counted.count == 1
    finally:
        reads.dispose()
        plain.dispose()


def test_a_driver_level_error_is_sqlalchemys_and_a_dead_connection_is_replaced(
    postgres_url: str,
) -> None:
    reads = make_engine(postgres_url, pool_size=1, autocommit=True)
    failing = ReadStatement(
        select(text("1 / (n - 1)")).select_from(text("generate_series(1, 1) n"))
    )
    try:
        with reads.connect() as c, pytest.raises(DBAPIError) as raised:
            failing.rows(c, {})
        assert "division by zero" in str(raised.value) and not raised.value.connection_invalidated
        with reads.connect() as c:
            pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with plain_connection(postgres_url) as killer:
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as raised:
                NUMBERS.rows(c, {"low": 1})
            assert raised.value.connection_invalidated
        with reads.connect() as c:  # a new database connection, the statement prepared again
            assert len(NUMBERS.rows(c, {"low": 8})) == 2
    finally:
        reads.dispose()


@contextlib.contextmanager
def plain_connection(postgres_url: str) -> Iterator[Connection]:
    engine = make_engine(postgres_url, pool_size=1)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()
