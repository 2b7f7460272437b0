"""Connections as a budget (spec 13): the pool opens only what threads use at once, gives idle
connections back, and the budget's arithmetic and start check say what a stack needs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from adapters.persistence.budget import (
    PROCESS_TYPES,
    BudgetError,
    check_at_start,
    parse_scale,
    per_process,
    stack,
    stage_pool,
)
from adapters.persistence.engine import make_engine
from adapters.settings import Settings
from cli.main import main


def _alive(admin: Engine, pids: set[int]) -> set[int]:
    """Which of these server processes are still connected (other tests' engines of this
    session may open and close connections meanwhile: only our own are counted)."""
    with admin.connect() as connection:
        rows = connection.execute(text("SELECT pid FROM pg_stat_activity")).scalars()
        return pids & set(rows)


@pytest.fixture(scope="module")
def admin(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", pool_size=1)
    yield engine
    engine.dispose()


def test_a_pool_opens_what_threads_use_at_once_and_closes_idle_ones(
    postgres_url: str, admin: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_DB_IDLE_SECONDS", "1")
    engine = make_engine(postgres_url, pool_size=3, pool_timeout=10)
    pids: set[int] = set()
    try:
        barrier = threading.Barrier(6)

        def work() -> None:
            barrier.wait()
            with engine.connect() as connection:
                pids.add(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
                connection.execute(text("SELECT pg_sleep(0.3)"))

        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(pids) == 3  # six threads, three server connections
        assert engine.pool.open_connections() == 3  # type: ignore[attr-defined]
        assert _alive(admin, pids) == pids  # kept while in use
        deadline = time.monotonic() + 5
        while engine.pool.open_connections() and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.1)
        assert engine.pool.open_connections() == 0  # type: ignore[attr-defined]
        time.sleep(0.2)
        assert _alive(admin, pids) == set()  # given back to the server
        with engine.connect() as connection:  # and opened again when needed
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_closed_idle_connection_forgets_what_was_prepared_on_it(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1)
    try:
        with engine.connect() as connection:
            connection.info["oms_prepared"] = {"something"}
            connection.rollback()
        engine.pool.idle_seconds = 0.0  # type: ignore[attr-defined]
        assert engine.pool.close_idle() == 1  # type: ignore[attr-defined]
        with engine.connect() as connection:
            assert "oms_prepared" not in connection.info
    finally:
        engine.dispose()


def test_budget_per_process_type_follows_the_threads() -> None:
    settings = Settings(worker_threads=8, group_threads=32, api_db_connections=4)
    assert per_process("packaging", settings) == 9  # every thread, and the marking thread
    assert per_process("ingest", settings) == 3  # the group's leader, the marks, a dead letter
    # the awaited reads' pool, the reads' engine and the other one
    assert per_process("api", settings, api_workers=2) == 24
    assert stage_pool("split", 1) == 2
    lines = {line.kind: line for line in stack(settings, parse_scale("ingest=2,packaging=3"))}
    assert [*lines] == list(PROCESS_TYPES)
    assert lines["ingest"].total == 6 and lines["packaging"].total == 27
    assert lines["report"].count == 1


@pytest.mark.parametrize("bad", ["nope=2", "ingest=x", "ingest=-1"])
def test_a_bad_scale_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_scale(bad)


def test_a_process_whose_pool_cannot_be_served_stops_at_start(postgres_url: str) -> None:
    with pytest.raises(BudgetError, match=r"needs up to 100000 PostgreSQL connections.*"
                       r"max_connections \d+"):  # fmt: skip
        check_at_start(postgres_url, "oms worker packaging", 100_000, Settings())
    check_at_start(postgres_url, "oms worker packaging", 1, Settings())  # fits: no error
    pooled = Settings(database_pooler="pgbouncer")
    check_at_start(postgres_url, "behind the pooler", 100_000, pooled)  # its limits, not ours


def test_oms_worker_refuses_to_start_when_the_server_cannot_serve_it(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    with pytest.raises(SystemExit, match=r"oms worker packaging .*needs up to"):
        main(["worker", "packaging", "--processes", "1", "--threads", "100000"])


def test_oms_db_connections_prints_the_stack_against_the_server(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("OMS_WORKER_THREADS", "4")
    code = main(["db", "connections", "--scale", "ingest=2,split=2", "--api-workers", "1"])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["ingest"] == ["3", "2", "6"]
    assert rows["packaging"] == ["5", "1", "5"]
    assert rows["api"] == ["12", "1", "12"]
    assert rows["stack"] == ["48"]  # 6 + 6 + 4 x 5 + 2 + 1 + 1 + 12
    assert "server: max_connections" in out
    assert code == (0 if "fits:" in out else 1)
