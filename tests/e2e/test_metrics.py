"""Metrics from a real worker group: dramatiq's and the pipeline's own, on one loopback port;
and the database gauges of `oms metrics`."""

from __future__ import annotations

import socket

import pytest
import requests
from sqlalchemy import Engine

from tests.e2e.pipeline import ROOT, Pipeline, split_count, wait_for

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_worker_metrics_and_database_gauges(pipeline: Pipeline, db: Engine) -> None:
    port = free_port()
    pipeline._spawn(
        "workers", [*pipeline.oms, "worker", "all", "--threads", "2", "--metrics-port", str(port)]
    )
    pipeline.run_oms(
        "publish", "orders", str(ROOT / "docs/examples/order-single-main-merchant.json")
    )
    wait_for(lambda: split_count(db, "HB-7781") == 1, 60, "HB-7781 to be split")

    def scraped() -> str:
        try:
            return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        except requests.RequestException:
            return ""

    wait_for(lambda: "oms_merchant_orders_total" in scraped(), 30, "the pipeline's counters")
    text = scraped()
    assert 'dramatiq_messages_total{actor_name="ingest_order",queue_name="oms.ingest"}' in text
    assert any(
        line.startswith("oms_orders_ingested_total")
        or line.startswith("oms_orders_duplicate_total")
        for line in text.splitlines()
    )
    gauges = pipeline.run_oms("metrics").stdout
    assert 'oms_packages{status="waiting"}' in gauges and "oms_outbox_unpublished" in gauges
