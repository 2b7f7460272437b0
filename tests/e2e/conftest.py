from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.persistence.engine import make_engine
from tests import services
from tests.e2e.pipeline import Pipeline


@pytest.fixture
def pipeline(postgres_url: str, rabbitmq_url: str, tmp_path: Path) -> Iterator[Pipeline]:
    services.purge_queues(rabbitmq_url)
    pipeline = Pipeline(postgres_url, rabbitmq_url, tmp_path)
    yield pipeline
    pipeline.stop()


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()
