"""Migrations are the only way the schema is made: up from empty, idempotent, and in step
with the tables the code uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from adapters.persistence.migrate import upgrade
from adapters.persistence.tables import metadata
from tests import services

TABLES = {
    "transitions",
    "transition_log",
    "shipments",
    "cargo_conditions",
    "status_reports",
    "poll_cycles",
    "poll_cycle_parts",
    "runtime_flags",
    "channels",
    "orders",
    "order_items",
    "expenses",
    "merchant_orders",
    "packages",
    "package_items",
    "outbox",
    "dead_letters",
    "api_tokens",
    "merchants",
    "merchant_transitions",
    "merchant_order_items",
    "merchant_transition_log",
    "users",
    "login_throttle",
    "session_keys",
    "ended_sessions",
    "merchant_process_states",
    "product_offer_reservations",
    "reserved_items",
    "queue_depth_samples",
    "alembic_version",
}


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.sqlite3"
    else:
        yield from services.make_database()


def test_upgrade_from_empty_creates_every_table_and_matches_the_code(empty_url: str) -> None:
    upgrade(empty_url)
    upgrade(empty_url)  # a second run is a no-op
    engine = create_engine(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()
