"""The seed's command call end to end, with worker subprocesses on the real services: 202 and a
status URL while the packaging workers are stopped, the outcome once they start; 204 applied;
400 naming the state when the package has moved on; 404 for an unknown package."""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, select

from adapters.omnitron.simulator import OmnitronSimulator
from adapters.persistence import tables as t
from cli.generate import generate_orders
from tests import services
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer
from tests.e2e.pipeline import Pipeline, split_count, wait_for, write_json_lines

pytestmark = [pytest.mark.services, pytest.mark.e2e]
SLUG = "CHANNEL_BASED_COMPLETE_PACKAGING"


@pytest.fixture
def pipeline(postgres_url: str, rabbitmq_url: str, tmp_path: Path) -> Iterator[Pipeline]:
    omnitron = OmnitronSimulator(username="oms", password="oms")
    omnitron.start()
    services.purge_queues(rabbitmq_url)
    pipeline = Pipeline(postgres_url, rabbitmq_url, tmp_path, omnitron_url=omnitron.url)
    yield pipeline
    pipeline.stop()
    omnitron.stop()


def start_packaging_workers(pipeline: Pipeline) -> None:
    pipeline._spawn(
        "packaging",
        [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1",
         "--threads", "2", "--queues", "oms.packaging"],
    )  # fmt: skip


def test_seed_command_call(pipeline: Pipeline, api: ApiServer, keys: Keys, api_db: Engine) -> None:
    prefix = f"APC-{uuid.uuid4().hex[:6].upper()}"
    bodies = [
        b
        for b in generate_orders(
            8,
            prefix=prefix,
            seed=random.randrange(10**6),
            first_item_id=random.randrange(10**11, 10**12),
        )
        if b["channel"]["channel_type"] != "web"  # type: ignore[index]
    ][:2]
    pipeline.start_workers(queues=["oms.ingest", "oms.split"])
    pipeline.run_oms(
        "publish", "orders", str(write_json_lines(pipeline.log_dir / "o.jsonl", bodies))
    )
    wait_for(lambda: split_count(api_db, prefix) == len(bodies), 90, "the orders to be split")
    with api_db.connect() as c:
        first, second = c.execute(
            select(t.packages.c.id, t.packages.c.number)
            .where(t.packages.c.number.startswith(prefix))
            .order_by(t.packages.c.id)
            .limit(2)
        ).all()
    headers = token(keys.operator)
    body = {"slug": SLUG, "input_parameters": {}}

    # packaging workers stopped: not known in time
    later = requests.post(f"{api.url}/api/v1/packages/{first.id}/command/", json=body,
                          headers=headers, timeout=30)  # fmt: skip
    assert later.status_code == 202, later.text
    accepted = later.json()
    assert set(accepted) == {"command_id", "status_url"}
    assert later.headers["Location"] == accepted["status_url"]
    assert accepted["status_url"] == f"{api.url}/api/v1/package-commands/{accepted['command_id']}/"
    pending = requests.get(accepted["status_url"], headers=headers, timeout=30).json()
    assert pending == {"command_id": accepted["command_id"], "status": "pending"}

    start_packaging_workers(pipeline)

    def outcome() -> dict[str, object]:
        answer: dict[str, object] = requests.get(
            accepted["status_url"], headers=headers, timeout=30
        ).json()
        return answer

    wait_for(lambda: outcome()["status"] != "pending", 60, "the command's outcome")
    assert outcome() == {
        "command_id": accepted["command_id"], "status": "applied", "detail": "applied",
        "package": str(first.id), "from_status": "waiting", "to_status": "packed",
    }  # fmt: skip

    # workers up: applied within the wait
    applied = requests.post(f"{api.url}/api/v1/packages/{second.id}/command/", json=body,
                            headers=headers, timeout=30)  # fmt: skip
    assert applied.status_code == 204, applied.text
    assert applied.content == b""
    with api_db.connect() as c:
        statuses = c.execute(
            select(t.packages.c.status).where(t.packages.c.id.in_([first.id, second.id]))
        ).scalars().all()  # fmt: skip
    assert statuses == [500, 500]

    # the same command again: rejected, naming the state
    again = requests.post(f"{api.url}/api/v1/packages/{first.id}/command/", json=body,
                          headers=headers, timeout=30)  # fmt: skip
    assert again.status_code == 400
    assert again.json() == {
        "detail": f"package {first.number} is packed; {SLUG} runs only from waiting, "
        "preparing, ready_to_pack"
    }

    unknown = requests.post(f"{api.url}/api/v1/packages/99999999999/command/", json=body,
                            headers=headers, timeout=30)  # fmt: skip
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "package 99999999999 not found"}
