"""Envelopes as upstream input (issue 8, items 4 and 16b): what is wrong with one is said by
field and type, never by value; the keeper files them with that reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.messaging import envelope
from adapters.messaging.dead_letter_keeper import as_message
from adapters.messaging.publisher import message_for


def good() -> dict[str, Any]:
    return message_for("oms.ingest", "ingest_order", {"number": "E-1"}).asdict() | {"args": [{}]}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"options": None}, "options is null, not an object"),
        ({"actor_name": ["ingest_order"]}, "actor_name is a list, not a string"),
        ({"args": {"number": "x"}}, "args is an object, not a list"),
        ({"kwargs": "x"}, "kwargs is a string, not an object"),
        ({"message_timestamp": "today"}, "message_timestamp is a string, not an integer"),
        ({"message_timestamp": True}, "message_timestamp is a boolean, not an integer"),
        ({"message_id": ""}, "message_id is empty"),
        ({"priority": 3}, "unknown fields: priority"),
    ],
)
def test_a_broken_field_is_named_with_its_type(change: dict[str, Any], problem: str) -> None:
    assert envelope.envelope_problem(good() | change) == problem


def test_a_missing_field_and_a_non_object_body() -> None:
    body = good()
    del body["queue_name"]
    assert envelope.envelope_problem(body) == "queue_name is missing"
    assert envelope.envelope_problem([1, 2]) == "the body is a list, not an object"
    assert envelope.envelope_problem(good()) is None


def test_an_eta_beyond_the_cap_is_refused_and_a_near_one_is_not() -> None:
    now = 1_000_000_000
    assert envelope.eta_problem({"eta": now + 30 * 60_000}, now, 360_000) == (
        "options.eta is 1800 s ahead; at most 360 s is accepted"
    )
    assert envelope.eta_problem({"eta": now + 60_000}, now, 360_000) is None
    assert envelope.eta_problem({}, now, 360_000) is None


def test_the_keeper_files_a_malformed_envelope_raw_under_its_id_with_the_reason() -> None:
    body = good() | {"options": None, "args": [{"email": "someone@example.invalid"}]}
    stored, reason = as_message("oms.ingest", json.dumps(body).encode())
    assert reason == "undecodable message: options is null, not an object; never processed"
    assert stored["message_id"] == body["message_id"] and "raw" in stored
    assert stored["queue_name"] == "oms.ingest" and stored["actor_name"] == "ingest_order"
    list_actor = json.dumps(good() | {"actor_name": [1]}).encode()
    stored, reason = as_message("oms.ingest", list_actor)
    assert stored["actor_name"] == "-" and reason is not None and "actor_name is a list" in reason


def test_the_keeper_files_a_good_envelope_under_the_queue_it_came_from() -> None:
    body = good() | {"queue_name": "oms.ingest.DQ"}
    stored, reason = as_message("oms.ingest", json.dumps(body).encode())
    assert reason is None and stored["queue_name"] == "oms.ingest"
    assert stored["args"] == body["args"]


def test_the_keeper_keeps_no_raw_copy_when_the_database_is_away() -> None:
    """A broken connection says nothing about the body (found by the drills: a dead letter the
    worker had recorded got a second, raw record when the keeper's first write hit a connection
    that a PostgreSQL restart had closed)."""
    from sqlalchemy.exc import OperationalError

    from adapters.messaging.dead_letter_keeper import keep_one

    calls: list[str] = []

    def record(message: dict[str, object], reason: str, keep: bool) -> None:
        calls.append(str(message["message_id"]))
        raise OperationalError("INSERT …", {}, Exception("server closed the connection"))

    body = {
        "queue_name": "oms.ingest",
        "actor_name": "ingest_order",
        "args": [{}],
        "kwargs": {},
        "options": {},
        "message_id": "m-1",
        "message_timestamp": 1,
    }
    with pytest.raises(OperationalError):
        keep_one("oms.ingest", json.dumps(body).encode(), record)
    assert calls == ["m-1"], "no raw copy under another id"
