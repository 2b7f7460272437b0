"""`oms demo` never writes into real systems (issue 8, item 17): embedded whatever the
environment says; with --real-services on a database, vhost and simulator of its own, removed
afterwards. The configured database, vhost and Omnitron see nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade
from tests import services
from tests.e2e.isolation import (
    count_rows,
    database_exists,
    oms,
    queue_exists,
    scratch_names,
    vhost_exists,
)

pytestmark = [pytest.mark.services, pytest.mark.e2e]


@pytest.fixture
def live_db() -> Iterator[tuple[str, Engine]]:
    """A database of this test only, standing for the production one."""
    for url in services.make_database():
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        yield url, engine
        engine.dispose()


@pytest.fixture
def live_vhost() -> Iterator[str]:
    """A vhost of this test only, standing for the production one: the session's vhost may
    hold queues other e2e tests declared before this one runs."""
    yield from services.make_vhost()


def untouched(engine: Engine, omnitron: OmnitronSimulator) -> None:
    assert count_rows(engine, t.orders, t.orders.c.id > 0) == 0, "demo orders in the database"
    assert count_rows(engine, t.dead_letters, t.dead_letters.c.id > 0) == 0
    assert omnitron.state.orders == {}, "demo orders registered at the configured Omnitron"
    assert omnitron.state.log == [], "the demo called the configured Omnitron"


def test_demo_is_embedded_whatever_the_environment_says(
    live_db: tuple[str, Engine], live_vhost: str, omnitron: OmnitronSimulator
) -> None:
    url, engine = live_db
    omnitron.state.log.clear()
    env = {"OMS_DATABASE_URL": url, "OMS_BROKER_URL": live_vhost, "OMNITRON_URL": omnitron.url}
    run = oms(env, "demo", "--orders", "2", timeout=300)
    assert run.returncode == 0, run.stderr
    untouched(engine, omnitron)
    assert "oms demo (embedded)" in run.stdout
    assert not queue_exists(live_vhost, "oms.ingest.XQ")


def test_demo_with_real_services_uses_its_own_and_removes_them(
    live_db: tuple[str, Engine], live_vhost: str, omnitron: OmnitronSimulator
) -> None:
    url, engine = live_db
    omnitron.state.log.clear()
    env = {"OMS_DATABASE_URL": url, "OMS_BROKER_URL": live_vhost, "OMNITRON_URL": omnitron.url}
    run = oms(env, "demo", "--real-services", "--orders", "2", timeout=300)
    assert run.returncode == 0, run.stderr
    assert "oms demo (real services)" in run.stdout
    told = re.search(r"^450 +\d+ +\d+ +200x\d+$", run.stdout, re.M)
    assert told, "no report reached the demo's own simulator"
    untouched(engine, omnitron)
    assert not queue_exists(live_vhost, "oms.ingest.XQ")
    database, vhost = scratch_names(run.stdout)
    assert not database_exists(url, database) and not vhost_exists(vhost)
