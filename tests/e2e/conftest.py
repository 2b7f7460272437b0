from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import Engine

from adapters.messaging.broker import build_broker
from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence.engine import make_engine
from tests import services
from tests.e2e.pipeline import Pipeline


@pytest.fixture
def omnitron() -> Iterator[OmnitronSimulator]:
    simulator = OmnitronSimulator(username="oms", password="oms")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def pipeline(
    postgres_url: str, rabbitmq_url: str, tmp_path: Path, omnitron: OmnitronSimulator
) -> Iterator[Pipeline]:
    services.purge_queues(rabbitmq_url)
    pipeline = Pipeline(postgres_url, rabbitmq_url, tmp_path, omnitron_url=omnitron.url)
    yield pipeline
    pipeline.stop()


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def broker(pipeline: Pipeline) -> Iterator[dramatiq.Broker]:
    """A publishing broker on the pipeline's vhost, for commands the tests send."""
    broker = build_broker(pipeline.env["OMS_BROKER_URL"], [])
    yield broker
    broker.close()
