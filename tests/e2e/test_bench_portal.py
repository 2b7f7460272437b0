"""`oms bench portal` runs end to end on a scratch database (removed after) and reports every
page's server time against the target."""

from __future__ import annotations

import pytest

from tests.e2e.isolation import database_exists, oms, scratch_names

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def test_bench_portal_reports_each_page(postgres_url: str, rabbitmq_url: str) -> None:
    env = {"OMS_DATABASE_URL": postgres_url, "OMS_BROKER_URL": rabbitmq_url,
           "OMS_LOG_LEVEL": "WARNING"}  # fmt: skip
    run = oms(env, "bench", "portal", "--merchant-orders", "60", "--others", "20",
              "--requests", "3", timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    for page in ("order list", "order list, customer name", "one merchant order"):
        assert page in run.stdout
    assert "target: every page's median under 100 ms" in run.stdout
    database, _ = scratch_names(run.stdout)
    assert not database_exists(postgres_url, database)
