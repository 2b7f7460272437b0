"""An order that was never stored because its message was dead-lettered: the operator's 404
says so (issue 21 item 19), with the dead letter, its reason and where to list and replay it,
as `oms show order` does. Unknown numbers keep the plain 404."""

from __future__ import annotations

import uuid

import pytest
import requests
from sqlalchemy import Engine

from adapters.messaging.publisher import message_for
from adapters.persistence.dead_letters import dead_letters, record_dead_letter
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer

pytestmark = pytest.mark.services


def test_the_404_of_a_dead_lettered_order_names_its_dead_letter(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    number = f"BAD-{uuid.uuid4().hex[:6]}"
    body = {"number": number, "channel": {"id": 42, "name": "T", "channel_type": "trendyol"}}
    reason = "invalid message: status: Field required"
    record_dead_letter(api_db, message_for("oms.ingest", "ingest_order", body).asdict(), reason)
    (letter,) = dead_letters(api_db, "oms.ingest", order_number=number)
    for path in (f"/api/v1/orders/{number}/", f"/api/v1/orders/{number}/history/"):
        answer = requests.get(api.url + path, headers=token(keys.operator), timeout=30)
        assert answer.status_code == 404
        detail = answer.json()["detail"]
        assert detail.startswith(f"order {number} not found; it was dead-lettered")
        assert f"oms.ingest {letter['id']}, open: {reason}" in detail
        assert f"POST /api/v1/dead-letters/{letter['id']}/replay/" in detail
    answer = requests.get(
        api.url + f"/api/v1/orders/{number}/", params={"channel": 7}, headers=token(keys.operator),
        timeout=30,
    )  # fmt: skip
    assert answer.json() == {"detail": f"order {number} not found"}, "another channel's: none"


def test_dead_letters_list_the_order_they_name(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    number = f"BAD-{uuid.uuid4().hex[:6]}"
    body = {"number": number, "channel": {"id": 42, "name": "T", "channel_type": "trendyol"}}
    message = message_for("oms.ingest", "ingest_order", body).asdict()
    record_dead_letter(api_db, message, "invalid message: status: Field required")
    answer = requests.get(
        api.url + "/api/v1/dead-letters/", params={"queue": "oms.ingest", "limit": 100},
        headers=token(keys.operator), timeout=30,
    )  # fmt: skip
    (row,) = [r for r in answer.json()["results"] if r["message_id"] == message["message_id"]]
    assert (row["order_number"], row["order_channel_id"]) == (number, 42)
