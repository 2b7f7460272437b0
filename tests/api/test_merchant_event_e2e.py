"""A merchant event through the HTTP API end to end, with the merchant worker as a subprocess on
the real services: 202 and a status URL while the worker is stopped, the outcome once it
starts; 200 with each item's outcome; 400 for an unknown event and 404 for another merchant's
merchant order, both decided before anything is published."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, func, select

from adapters.persistence import tables as t
from tests import services
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer
from tests.api.stored import example, store
from tests.e2e.pipeline import Pipeline, wait_for

pytestmark = [pytest.mark.services, pytest.mark.e2e]
A = "MER000002"


@pytest.fixture
def pipeline(postgres_url: str, rabbitmq_url: str, tmp_path: Path) -> Iterator[Pipeline]:
    services.purge_queues(rabbitmq_url)
    pipeline = Pipeline(postgres_url, rabbitmq_url, tmp_path)
    yield pipeline
    pipeline.stop()


def start_merchant_worker(pipeline: Pipeline) -> None:
    pipeline._spawn(
        "merchant",
        [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1",
         "--threads", "2", "--queues", "oms.merchant"],
    )  # fmt: skip


def log_lines(engine: Engine, reference: str) -> int:
    log = t.merchant_transition_log
    with engine.connect() as c:
        query = select(func.count()).where(log.c.merchant_order_reference == reference)
        return int(c.execute(query).scalar_one())


def test_event_through_the_api(
    pipeline: Pipeline, api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    body = example()
    store(api_db, body)
    kettle, mug, _ = (item["id"] for item in body["items"])
    reference = f"{body['number']}--{A}"
    kettle_ref, mug_ref = f"{reference}--{kettle}", f"{reference}--{mug}"
    url = f"{api.url}/api/v1/merchant/orders/{reference}/events/"
    mine = token(keys.merchant_a)

    def post(payload: dict[str, Any], key: str = keys.merchant_a) -> requests.Response:
        return requests.post(url, json=payload, headers=token(key), timeout=30)

    before = log_lines(api_db, reference)  # the split's create/initiate lines
    # the merchant worker stopped: not known in time
    later = post({"event": "cancel by merchant", "item_references": [mug_ref]})
    assert later.status_code == 202, later.text
    accepted = later.json()
    assert set(accepted) == {"event_id", "status_url"}
    assert later.headers["Location"] == accepted["status_url"]
    assert accepted["status_url"] == f"{url}{accepted['event_id']}/"
    pending = requests.get(accepted["status_url"], headers=mine, timeout=30).json()
    assert pending == {
        "event_id": accepted["event_id"], "status": "pending", "detail": None, "outcomes": []
    }  # fmt: skip
    # another merchant may not read it (the merchant order reads as missing)
    foreign = requests.get(accepted["status_url"], headers=token(keys.merchant_b), timeout=30)
    assert foreign.status_code == 404

    start_merchant_worker(pipeline)

    def status() -> dict[str, Any]:
        found: dict[str, Any] = requests.get(
            accepted["status_url"], headers=mine, timeout=30
        ).json()
        return found

    wait_for(lambda: status()["status"] != "pending", 60, "the event's outcome")
    assert status() == {
        "event_id": accepted["event_id"],
        "status": "handled",
        "detail": None,
        "outcomes": [
            {"item_reference": mug_ref, "outcome": "applied", "from_state": "new",
             "to_state": "canceled by merchant", "reason": "applied"},
        ],
    }  # fmt: skip

    # the worker up: each item's outcome within the wait
    shipped = post({"event": "ship"})
    assert shipped.status_code == 200, shipped.text
    outcomes = {o["item_reference"]: o for o in shipped.json()["outcomes"]}
    assert shipped.json()["status"] == "handled"
    assert outcomes[kettle_ref]["outcome"] == "rejected"  # a marketplace order's shipping
    assert "channel's carrier" in outcomes[kettle_ref]["reason"]
    assert outcomes[mug_ref] == {
        "item_reference": mug_ref, "outcome": "skipped", "from_state": "canceled by merchant",
        "to_state": None, "reason": "state 'canceled by merchant' has no event 'ship'",
    }  # fmt: skip
    closed = post({"event": "close", "item_references": [mug_ref, f"{reference}--1"]})
    assert closed.status_code == 200, closed.text
    assert [
        (o["item_reference"], o["outcome"], o["to_state"]) for o in closed.json()["outcomes"]
    ] == [
        (f"{reference}--1", "rejected", None),
        (mug_ref, "applied", "closed"),
    ]

    # the marketplace side followed, and the portal shows it
    page = requests.get(f"{api.url}/api/v1/merchant/orders/{reference}/", headers=mine,
                        timeout=30).json()  # fmt: skip
    assert page["totals"]["canceled_total"] == 4500 and page["totals"]["grand_total"] == 10590
    assert [i["state"] for i in page["overview"]["items"]] == ["new", "closed"]

    # rejected before publishing: nothing reaches the worker or the log
    handled = log_lines(api_db, reference)
    assert handled == before + 1 + 2 + 2
    unknown = post({"event": "fly"})
    assert unknown.status_code == 400
    assert unknown.json() == {"detail": "unknown event 'fly'"}
    foreign_post = post({"event": "cancel by merchant"}, keys.merchant_b)
    assert foreign_post.status_code == 404
    assert foreign_post.json() == {"detail": f"merchant order {reference} not found"}
    time.sleep(1.0)  # the worker is up: a published message would be logged by now
    assert log_lines(api_db, reference) == handled
