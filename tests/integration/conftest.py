from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The same repository tests run on PostgreSQL (production) and SQLite (embedded mode)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/oms.sqlite3"
        upgrade(url)
    engine = make_engine(url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    """An engine on this session's PostgreSQL database (PostgreSQL-only tests)."""
    engine = make_engine(postgres_url, pool_size=4)
    yield engine
    engine.dispose()
