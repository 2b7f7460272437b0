"""Failure drill (issue 8): the broker refuses retries while Omnitron is down. A `reject-publish`
policy on `oms.report.DQ` in the test's PRIVATE vhost (the shared broker is never alarmed) plays
a memory or disk alarm; every report fails and its retry cannot be stored. Then both are lifted,
and every report still reaches Omnitron exactly once. Restarts nothing: run it alone with
`OMS_DRILLS=1 pytest tests/drills/test_broker_alarm.py`."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dramatiq
import pytest
import requests
from sqlalchemy import Engine

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence.dead_letters import dead_letters
from tests import services
from tests.e2e.pipeline import Pipeline, wait_for
from tests.e2e.test_reports import (
    BULK,
    assert_reported_exactly,
    fault,
    ingest,
    marketplace_orders,
    pack,
    package_ids,
    reports_sent,
)

pytestmark = [pytest.mark.drills, pytest.mark.services]
POLICY = "oms-drill-refuse-report-retries"


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


def test_reports_survive_a_broker_refusing_retries_while_omnitron_is_down(
    pipeline: Pipeline,
    db: Engine,
    omnitron: OmnitronSimulator,
    broker: dramatiq.Broker,
    rabbitmq_url: str,
    tmp_path: Path,
) -> None:
    vhost = unquote(urlsplit(rabbitmq_url).path.lstrip("/"))
    assert vhost.startswith("oms-test-"), "the policy goes on a private vhost only"
    prefix, bodies = marketplace_orders(4)
    pipeline.start_workers()
    pipeline.start_sweeper()
    ingest(pipeline, db, omnitron, tmp_path, bodies, prefix)
    ids = package_ids(db, prefix)
    refuse = json.dumps({"max-length": 0, "overflow": "reject-publish"})
    rabbitmqctl("set_policy", "-p", vhost, "--apply-to", "queues", POLICY, r"^oms\.report\.DQ$",
                refuse)  # fmt: skip
    try:
        fault(omnitron, {"drop": True, "count": 10**6})  # Omnitron unreachable
        pack(broker, ids)

        def refused() -> Counter[str]:
            """Reports whose retry the broker refused, by message id, from the worker log."""
            events = [
                json.loads(line)
                for path in tmp_path.glob("workers-*.log")
                for line in path.read_text().splitlines()
                if "message.retry_not_stored" in line
            ]
            return Counter(e["message_id"] for e in events if e["actor"] == "send_status_report")

        def every_report_refused_twice() -> bool:
            # a requeued message goes back to the head of its queue: while the broker refuses,
            # the reports that fill the worker's prefetch (2 x 4 threads) keep their turn, and
            # a newer one behind them waits until the refusal ends
            counts = refused()
            return len(counts) >= min(len(ids), 8) and min(counts.values(), default=0) >= 2

        # each report fails, its retry is refused, it is put back, and it fails again
        wait_for(every_report_refused_twice, 240, "every report's retry to be refused twice")
        assert reports_sent(db, ids) == 0
        assert services.queue_depth(rabbitmq_url, "oms.report.XQ") == 0, "nothing dead-lettered"
        assert dead_letters(db, "oms.report") == []
    finally:
        rabbitmqctl("clear_policy", "-p", vhost, POLICY)
        requests.delete(f"{omnitron.url}/sim/faults", timeout=5)
    wait_for(lambda: reports_sent(db, ids) == len(ids), 180, "every report once both are lifted")
    time.sleep(3)  # a duplicate would show up here
    assert_reported_exactly(omnitron, db, ids, bodies)
    accepted = Counter(
        frozenset(item["id"] for item in r["body"]["orderitem_set"])
        for r in omnitron.requests()
        if r["method"] == "PATCH" and r["path"] == BULK and r["status"] == 200
    )
    assert len(accepted) == len(ids) and set(accepted.values()) == {1}, "each report once"
    assert dead_letters(db, "oms.report") == []
