"""Stopping the API is quiet (issue 21, item 20): Ctrl-C on `honcho start` logged error lines
from pika. The API's broker connection went idle, nothing serviced its heartbeats, RabbitMQ
dropped it after two missed ones, and the next publish and the close at shutdown hit the dead
socket. Heartbeats of 2 s here make a minute's idleness take seconds."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.dead_letters import record_dead_letter
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer

pytestmark = pytest.mark.services


def letter(engine: Engine, queue: str) -> int:
    """A dead letter to replay (a replay is a publish); its id."""
    message_id = str(uuid.uuid4())
    message = {
        "queue_name": queue, "actor_name": "some_actor", "args": [{}], "kwargs": {},
        "options": {}, "message_id": message_id, "message_timestamp": 0,
    }  # fmt: skip
    record_dead_letter(engine, message, "for the shutdown test")
    with engine.connect() as connection:
        found = select(t.dead_letters.c.id).where(t.dead_letters.c.message_id == message_id)
        return int(connection.execute(found).scalar_one())


def test_idle_then_ctrl_c_logs_no_error(
    postgres_url: str, rabbitmq_url: str, tmp_path: Path, keys: Keys, api_db: Engine
) -> None:
    server = ApiServer(postgres_url, f"{rabbitmq_url}?heartbeat=2", tmp_path, name="api-stop")
    server.start()
    try:
        queue = f"oms.stoptest-{uuid.uuid4().hex[:6]}"
        for pause in (8, 8):  # publish, stay idle past two missed heartbeats; twice
            replay = requests.post(
                f"{server.url}/api/v1/dead-letters/{letter(api_db, queue)}/replay/",
                headers=token(keys.operator),
                timeout=30,
            )
            assert replay.status_code == 200, replay.text
            time.sleep(pause)
        assert server.process is not None
        os.killpg(server.process.pid, signal.SIGINT)  # what Ctrl-C sends the process group
        assert server.process.wait(timeout=20) == 0
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
    loud = [line for line in lines if line.get("level") not in ("debug", "info")]
    assert loud == [], loud
    assert "Application shutdown complete." in [line["event"] for line in lines]
