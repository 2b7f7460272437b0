"""`oms outbox prune`: rows published more than N days ago are deleted in batches; unpublished
rows stay however old, and so do rows published more recently (PostgreSQL and SQLite)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select

from adapters.messaging.outbox_relay import prune_published
from adapters.persistence import tables as t
from cli.main import build_parser


def add_row(engine: Engine, created_days_ago: float, published_days_ago: float | None) -> str:
    now = datetime.now(UTC)
    message_id = str(uuid.uuid4())
    with engine.begin() as c:
        c.execute(
            insert(t.outbox).values(
                message_id=message_id,
                command="SplitOrder",
                payload={"order_id": 1},
                created_at=now - timedelta(days=created_days_ago),
                published_at=(
                    None if published_days_ago is None else now - timedelta(days=published_days_ago)
                ),
            )
        )
    return message_id


def kept(engine: Engine, ids: list[str]) -> set[str]:
    with engine.connect() as c:
        rows = c.execute(select(t.outbox.c.message_id).where(t.outbox.c.message_id.in_(ids)))
        return set(rows.scalars())


def test_prune_deletes_old_published_rows_only_in_batches(engine: Engine) -> None:
    old_published = [add_row(engine, 30, 30 - n * 0.1) for n in range(5)]
    old_unpublished = add_row(engine, 40, None)
    recent = add_row(engine, 2, 1)
    ids = [*old_published, old_unpublished, recent]

    deleted = prune_published(engine, timedelta(days=7), batch=2)  # 2 + 2 + 1: three rounds

    assert deleted >= 5  # the database may hold other tests' old rows; ours are gone
    assert kept(engine, ids) == {old_unpublished, recent}
    assert prune_published(engine, timedelta(days=7), batch=2) == 0  # nothing left to do
    assert kept(engine, ids) == {old_unpublished, recent}


def test_a_batch_of_exactly_the_rows_left_ends_with_an_empty_round(engine: Engine) -> None:
    prune_published(engine, timedelta(days=7))  # whatever older tests left
    ids = [add_row(engine, 20, 20) for _ in range(4)]
    assert prune_published(engine, timedelta(days=7), batch=2) == 4
    assert kept(engine, ids) == set()


@pytest.mark.parametrize("days", ["-1", "nan", "inf", "40000", "seven"])
def test_the_cli_refuses_days_that_are_not_an_age(
    days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["outbox", "prune", "--days", days])
    assert stop.value.code == 2
    assert "is not a number of days from 0 to 36500" in capsys.readouterr().err


def test_the_cli_prunes_with_the_configured_database(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from adapters.persistence.engine import make_engine
    from workers import bootstrap

    engine = make_engine(postgres_url, pool_size=1)
    old, fresh = add_row(engine, 10, 9), add_row(engine, 10, 1)
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    bootstrap.reset()
    try:
        args = build_parser().parse_args(["outbox", "prune", "--days", "3"])
        assert args.handler(args) == 0
    finally:
        bootstrap.reset()
    out = capsys.readouterr().out
    assert out.startswith("deleted ") and out.rstrip().endswith(
        " outbox rows published more than 3 days ago"
    )
    assert int(out.split()[1]) >= 1
    assert kept(engine, [old, fresh]) == {fresh}
    engine.dispose()
