"""`oms demo` never writes into real systems (issue 8, item 17): embedded whatever the
environment says; with --real-services on a database, vhost and simulator of its own, removed
afterwards. The configured database, vhost and Omnitron see nothing."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

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
    assert run.stdout.splitlines()[0].endswith("(removed at the end)"), run.stdout
    told = re.search(r"^450 +\d+ +\d+ +200x\d+$", run.stdout, re.M)
    assert told, "no report reached the demo's own simulator"
    untouched(engine, omnitron)
    assert not queue_exists(live_vhost, "oms.ingest.XQ")
    database, vhost = scratch_names(run.stdout)
    assert not database_exists(url, database) and not vhost_exists(vhost)


def test_demo_keep_leaves_its_database_and_vhost_for_oms_reservations(
    live_db: tuple[str, Engine], live_vhost: str, omnitron: OmnitronSimulator
) -> None:
    url, engine = live_db
    env = {"OMS_DATABASE_URL": url, "OMS_BROKER_URL": live_vhost, "OMNITRON_URL": omnitron.url}
    run = oms(env, "demo", "--real-services", "--keep", timeout=300)  # 20 orders: some stay open
    assert run.returncode == 0, run.stderr
    database, vhost = scratch_names(run.stdout)
    try:
        assert f"kept: database {database}, vhost {vhost}" in run.stdout
        assert run.stdout.splitlines()[0].endswith("(kept at the end (--keep))"), run.stdout
        assert database_exists(url, database) and vhost_exists(vhost)
        kept_url = make_url(url).set(database=database).render_as_string(hide_password=False)
        verify = oms({"OMS_DATABASE_URL": kept_url}, "reservations", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        listed = oms({"OMS_DATABASE_URL": kept_url}, "reservations")
        assert listed.returncode == 0, listed.stderr
        # what `oms reservations` reads afterwards is the table the demo ended with
        shown = run.stdout.split("reserved now:", 1)[1].split("reservation(s) differ", 1)[0]
        assert rows_of(shown), shown  # the demo leaves open orders: something is reserved
        assert rows_of(listed.stdout) == rows_of(shown), (listed.stdout, shown)
        untouched(engine, omnitron)
    finally:  # the test made them (through the demo): it removes them
        server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        server.dispose()
        ctl = shutil.which("rabbitmqctl")
        assert ctl is not None  # the demo made its vhost with it
        services._ctl(ctl, "delete_vhost", vhost)
    assert not database_exists(url, database) and not vhost_exists(vhost)
    assert oms(env, "demo", "--keep").returncode == 2  # the embedded demo keeps nothing


def rows_of(table: str) -> set[str]:
    """A reservation table's data lines (merchant references start them), spaces normalised."""
    return {
        " ".join(line.split()) for line in table.splitlines() if line.startswith(("MER", "MAIN"))
    }
