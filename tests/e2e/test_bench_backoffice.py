"""`oms bench backoffice` runs end to end on a scratch database (removed after) and reports the
order search's and the packages list's server time against the target."""

from __future__ import annotations

import pytest

from tests.e2e.isolation import database_exists, oms, scratch_names

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def test_bench_backoffice_reports_each_page(postgres_url: str, rabbitmq_url: str) -> None:
    env = {"OMS_DATABASE_URL": postgres_url, "OMS_BROKER_URL": rabbitmq_url,
           "OMS_LOG_LEVEL": "WARNING"}  # fmt: skip
    run = oms(env, "bench", "backoffice", "--orders", "80", "--requests", "3", timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    for page in ("orders, by package number", "packages, waiting", "one order with history"):
        assert page in run.stdout
    assert "target: every page's median under 100 ms" in run.stdout
    database, _ = scratch_names(run.stdout)
    assert not database_exists(postgres_url, database)
