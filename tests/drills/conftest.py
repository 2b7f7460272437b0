"""The drills run the pipeline as the end-to-end tests do (the same fixtures), but each on a
database and vhost of its own: what earlier tests of the session left behind (unsent outbox rows,
messages on an .XQ) must not reach a drill's pipeline or its counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import services
from tests.e2e.conftest import broker, db, omnitron, pipeline  # noqa: F401


@pytest.fixture
def postgres_url() -> Iterator[str]:
    from adapters.persistence.migrate import upgrade

    for url in services.make_database():
        upgrade(url)
        yield url


@pytest.fixture
def rabbitmq_url() -> Iterator[str]:
    yield from services.make_vhost()
