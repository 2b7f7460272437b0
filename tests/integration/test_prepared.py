"""Prepared statements (adapters/persistence/prepared.py) on the real PostgreSQL: prepared once
per database connection, kept across transactions (rolled back ones too), prepared again on a
connection that replaced an invalidated one, the statement's own values kept in its text."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.exc import DBAPIError

from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.poll_repository import PREPARED, SqlPollRepository
from adapters.persistence.prepared import INFO_KEY, Prepared


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
