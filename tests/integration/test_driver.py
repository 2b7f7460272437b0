"""The group commit's statements on the driver's cursor (adapters/persistence/driver.py), on the
real PostgreSQL: in the SQLAlchemy connection's transaction, prepared once per connection (or
not at all when told), rows as named tuples, driver errors raised as SQLAlchemy's (values
hidden), a lost connection invalidated, and writes counted for the group's write counter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.persistence.driver import WRITES_KEY, DriverStatement
from adapters.persistence.engine import make_engine
from adapters.persistence.prepared import INFO_KEY
from tests.integration.test_prepared import prepared_here

NUMBERS = DriverStatement(
    "SELECT n AS number, n * 2 AS twice FROM generate_series(1, $2) n"
    " WHERE n = ANY(CAST($1 AS BIGINT[])) ORDER BY n"
)


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture
def scratch_table(engine: Engine) -> Iterator[str]:
    with engine.begin() as c:
        c.execute(text("DROP TABLE IF EXISTS oms_test_driver"))
        c.execute(text("CREATE TABLE oms_test_driver (key text PRIMARY KEY, secret text)"))
    yield "oms_test_driver"
    with engine.begin() as c:
        c.execute(text("DROP TABLE oms_test_driver"))


def test_rows_are_named_and_the_statement_is_prepared_once_per_connection(
    engine: Engine,
) -> None:
    with engine.connect() as c:
        rows = NUMBERS.rows(c, "{2,3,11}", 10)
        assert [(r.number, r.twice) for r in rows] == [(2, 4), (3, 6)]
        assert NUMBERS.scalars(c, "{5}", 10) == [5]
        assert NUMBERS.name in prepared_here(c) and NUMBERS.name in c.info[INFO_KEY]
        c.invalidate()
    with engine.connect() as c:  # a new database connection prepares it again
        assert NUMBERS.name not in prepared_here(c)
        assert NUMBERS.scalars(c, "{1}", 3) == [1]


def test_prepared_statements_can_be_turned_off(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_PREPARED_STATEMENTS", "false")  # behind a transaction pooler
    with engine.connect() as c:
        assert NUMBERS.scalars(c, "{1,4}", 9) == [1, 4]
        assert not prepared_here(c)


def test_it_runs_in_the_connections_transaction_and_counts_writes(
    engine: Engine, scratch_table: str
) -> None:
    insert = DriverStatement(
        f"INSERT INTO {scratch_table} (key, secret) SELECT * FROM"
        " unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]))"
    )
    with engine.connect() as c:
        transaction = c.begin()
        NUMBERS.rows(c, "{1}", 1)
        assert c.info.get(WRITES_KEY, 0) == 0  # a read is no write
        insert.run(c, '{"a","b"}', '{"x","y"}')
        assert c.info[WRITES_KEY] == 1
        transaction.rollback()
        assert c.execute(text(f"SELECT count(*) FROM {scratch_table}")).scalar() == 0
        c.commit()
        with c.begin():
            insert.run(c, '{"a"}', '{"x"}')
        assert c.execute(text(f"SELECT count(*) FROM {scratch_table}")).scalar() == 1


def test_a_driver_error_is_sqlalchemys_and_hides_the_values(
    engine: Engine, scratch_table: str
) -> None:
    insert = DriverStatement(f"INSERT INTO {scratch_table} (key, secret) VALUES ($1, $2)")
    with engine.connect() as c:
        insert.run(c, "k", "first")
        with pytest.raises(IntegrityError) as raised:
            insert.run(c, "k", "hunter2-secret")
        assert "hunter2-secret" not in str(raised.value)
        assert not raised.value.connection_invalidated


def test_a_lost_connection_is_invalidated_and_the_next_one_works(engine: Engine) -> None:
    with engine.connect() as c:
        pid = c.execute(text("SELECT pg_backend_pid()")).scalar()
        killer = make_engine(str(engine.url.render_as_string(hide_password=False)), pool_size=1)
        with killer.connect() as other:  # the pool's budget is 1: another engine kills it
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        with pytest.raises(DBAPIError) as raised:
            NUMBERS.rows(c, "{1}", 1)
        assert raised.value.connection_invalidated and c.invalidated
    with engine.connect() as c:
        assert NUMBERS.scalars(c, "{1}", 1) == [1]


def test_the_sql_is_checked_when_the_statement_is_made() -> None:
    with pytest.raises(ValueError, match=r"\$1"):
        DriverStatement("SELECT $2")
    with pytest.raises(ValueError, match="%"):
        DriverStatement("SELECT 'a%b' || $1")
    with pytest.raises(TypeError, match="2 values expected"):
        NUMBERS.rows(None, "{1}")  # type: ignore[arg-type]


def test_a_locking_read_is_no_write(engine: Engine) -> None:
    """`FOR UPDATE` names UPDATE: the group must not take a locking read for a write (a work
    that then leaves without commit() would send its whole group back to one per work)."""
    locking = DriverStatement("SELECT id FROM orders WHERE id = $1 FOR NO KEY UPDATE OF orders")
    assert not locking.writes and not DriverStatement("SELECT 1 FOR SHARE").writes
    assert DriverStatement("WITH x AS (SELECT $1::int AS n) INSERT INTO t SELECT n FROM x").writes
    with engine.connect() as c, c.begin():
        c.execute(text("CREATE TEMP TABLE oms_test_locked (id int)"))
        c.execute(text("INSERT INTO oms_test_locked VALUES (1), (2)"))
        before = c.info.get(WRITES_KEY, 0)
        rows = DriverStatement("SELECT id FROM oms_test_locked ORDER BY id FOR UPDATE").rows(c)
        assert [r.id for r in rows] == [1, 2] and c.info.get(WRITES_KEY, 0) == before


def test_a_prepare_the_connection_did_not_record_fails_one_transaction_only(
    engine: Engine,
) -> None:
    """A time limit raised between a PREPARE and its record leaves the statement prepared and
    unrecorded; the next PREPARE fails as a duplicate, and the record then agrees."""
    statement = DriverStatement("SELECT $1::int + 40 AS answer")
    with engine.connect() as c:
        with c.begin():
            c.exec_driver_sql(f"PREPARE {statement.name} AS {statement.sql}")  # unrecorded
        with pytest.raises(DBAPIError, match="already exists"), c.begin():
            statement.scalars(c, 2)
        with c.begin():
            assert statement.scalars(c, 2) == [42]
        c.info[INFO_KEY].add(other := DriverStatement("SELECT $1::int - 1").name)  # never made
        with pytest.raises(DBAPIError, match="does not exist"), c.begin():
            DriverStatement("SELECT $1::int - 1").scalars(c, 1)
        assert other not in c.info[INFO_KEY]
        with c.begin():
            assert DriverStatement("SELECT $1::int - 1").scalars(c, 1) == [0]
