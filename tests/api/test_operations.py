"""Package command status, cargo conditions, dead letters and queues through the API."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import Engine, insert, select

from adapters.messaging.message_ids import new_message_id
from adapters.persistence import tables as t
from adapters.persistence.dead_letters import record_dead_letter
from tests import services
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer
from tests.api.stored import example, store
from tests.api.test_auth_matrix import SEED_CONDITIONS

pytestmark = pytest.mark.services


def call(
    api: ApiServer, keys: Keys, method: str, path: str, headers: dict[str, str] | None = None,
    **kw: object,
) -> requests.Response:  # fmt: skip
    headers = {**token(keys.operator), **(headers or {})}
    return requests.request(method, api.url + path, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


def test_command_body_errors_name_the_field(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    package_id = store(api_db, example())[0]
    path = f"/api/v1/packages/{package_id}/command/"
    cases = [
        ({}, "body.slug", "Field required"),
        ({"slug": ""}, "body.slug", "at least 1 character"),
        ({"slug": "X", "input_parameters": []}, "body.input_parameters", "valid dictionary"),
        ({"slug": "X", "package_id": 3}, "body.package_id", "Extra inputs are not permitted"),
        ({"slug": 7}, "body.slug", "valid string"),
    ]
    for body, field, rule in cases:
        answer = call(api, keys, "POST", path, json=body)
        assert answer.status_code == 422, body
        assert answer.json()["errors"][0]["field"] == field, body
        assert rule in answer.json()["errors"][0]["rule"], body
    not_json = call(
        api, keys, "POST", path, data=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["errors"][0]["rule"].startswith("JSON decode error")
    bad_id = call(api, keys, "POST", "/api/v1/packages/0/command/", json={"slug": "X"})
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "path.package_id"


def test_unknown_package_is_404_and_nothing_is_published(
    api: ApiServer, keys: Keys, rabbitmq_url: str
) -> None:
    before = services.queue_depth(rabbitmq_url, "oms.packaging")
    answer = call(api, keys, "POST", "/api/v1/packages/9123456789/command/", json={"slug": "X"})
    assert answer.status_code == 404
    assert answer.json() == {"detail": "package 9123456789 not found"}
    assert services.queue_depth(rabbitmq_url, "oms.packaging") == before


def test_command_status_pending_then_the_logged_outcome(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    command_id = new_message_id()  # as the API publishes it: pending until an outcome is logged
    path = f"/api/v1/package-commands/{command_id}/"
    assert call(api, keys, "GET", path).json() == {"command_id": command_id, "status": "pending"}
    package_id = store(api_db, example())[0]
    with api_db.begin() as c:  # what the packaging worker logs for a rejection
        c.execute(
            insert(t.transition_log).values(
                package_id=package_id, package_ref=str(package_id), slug="NOPE",
                from_status=100, to_status=None, outcome="rejected",
                reason="package P is waiting; unknown command slug 'NOPE'",
                message_id=command_id, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    assert call(api, keys, "GET", path).json() == {
        "command_id": command_id,
        "status": "rejected",
        "detail": "package P is waiting; unknown command slug 'NOPE'",
        "package": str(package_id),
        "from_status": "waiting",
        "to_status": None,
    }
    assert call(api, keys, "GET", "/api/v1/package-commands/not-a-uuid/").status_code == 422


def test_cargo_conditions_stored_and_refused(api: ApiServer, keys: Keys, api_db: Engine) -> None:
    body = copy.deepcopy(SEED_CONDITIONS)
    body["cargo_company"] = 77
    body["rules_configuration"]["rules"][0]["params"]["channels"] = [42, 7]  # type: ignore[index]
    answer = call(api, keys, "POST", "/api/v1/cargo-company-conditions/", json=body)
    assert answer.status_code == 201
    stored = answer.json()
    assert stored["cargo_company"] == 77
    assert stored["rules_configuration"]["rules"][0]["params"]["channels"] == [7, 42]
    with api_db.connect() as c:
        rules = c.execute(
            select(t.cargo_conditions.c.rules).where(t.cargo_conditions.c.cargo_company_id == 77)
        ).scalar_one()
    assert rules, "stored in the database"

    unknown = copy.deepcopy(body)
    unknown["rules_configuration"]["rules"][0]["klass"] = "x.Other"  # type: ignore[index]
    refused = call(api, keys, "POST", "/api/v1/cargo-company-conditions/", json=unknown)
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("rules_configuration.rules[0].klass: unknown")
    bad_params = copy.deepcopy(body)
    bad_params["rules_configuration"]["rules"][0]["params"]["channels"] = []  # type: ignore[index]
    refused = call(api, keys, "POST", "/api/v1/cargo-company-conditions/", json=bad_params)
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("rules_configuration.rules[0].params.channels")
    for raw in (b"{", b"\xff"):
        answer = call(api, keys, "POST", "/api/v1/cargo-company-conditions/", data=raw)
        assert answer.status_code == 400 and "not JSON" in answer.json()["detail"]


def test_dead_letters_listed_and_replayed(
    api: ApiServer, keys: Keys, api_db: Engine, rabbitmq_url: str
) -> None:
    queue = f"oms.apitest-{uuid.uuid4().hex[:6]}"
    ids = []
    for n in range(3):
        message = {
            "queue_name": queue, "actor_name": "some_actor", "args": [{"n": n}], "kwargs": {},
            "options": {}, "message_id": str(uuid.uuid4()), "message_timestamp": 0,
        }  # fmt: skip
        record_dead_letter(api_db, message, f"reason {n}")
        ids.append(message["message_id"])
    raw = {"queue_name": queue, "actor_name": "-", "message_id": str(uuid.uuid4()), "raw": "x"}
    record_dead_letter(api_db, raw, "undecodable")
    page = call(api, keys, "GET", "/api/v1/dead-letters/", params={"queue": queue, "limit": 3})
    assert page.status_code == 200
    listed = page.json()
    assert listed["count"] == 4 and listed["next"] is not None
    assert [d["message_id"] for d in listed["results"]] == [raw["message_id"], *ids[::-1][:2]]
    assert listed["results"][1]["reason"] == "reason 2"
    assert listed["results"][1]["replayed_at"] is None

    letter = listed["results"][1]
    replayed = call(api, keys, "POST", f"/api/v1/dead-letters/{letter['id']}/replay/")
    assert replayed.status_code == 200
    assert replayed.json() == {
        "id": letter["id"], "message_id": letter["message_id"], "queue_name": queue,
        "replayed": True,
    }  # fmt: skip
    assert services.queue_depth(rabbitmq_url, queue) == 1
    again = call(api, keys, "GET", "/api/v1/dead-letters/", params={"queue": queue}).json()
    assert again["results"][1]["replayed_at"] is not None
    refused = call(api, keys, "POST", f"/api/v1/dead-letters/{listed['results'][0]['id']}/replay/")
    assert refused.status_code == 409
    assert "not a dramatiq message" in refused.json()["detail"]
    bad = call(api, keys, "GET", "/api/v1/dead-letters/", params={"queue": "a b"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.queue"


def test_queues_as_the_cli_reports_them(api: ApiServer, keys: Keys) -> None:
    answer = call(api, keys, "GET", "/api/v1/queues/")
    assert answer.status_code == 200
    snapshot = answer.json()
    assert [q["queue"] for q in snapshot["queues"]][:2] == ["oms.ingest", "oms.split"]
    assert "guest:***@" in snapshot["broker"] or "@" not in snapshot["broker"]
    for row in snapshot["queues"]:
        assert isinstance(row["ready"], int) and isinstance(row["dead_letters_recorded"], int)


def test_command_status_of_an_id_never_published_is_404(
    api: ApiServer, keys: Keys, api_db: Engine
) -> None:
    """An unknown id was "pending" for ever: with no outcome, only an id the API made is."""
    unknown = str(uuid.uuid4())
    answer = call(api, keys, "GET", f"/api/v1/package-commands/{unknown}/")
    assert answer.status_code == 404
    assert answer.json() == {"detail": f"command {unknown} not found"}
    package_id = store(api_db, example())[0]
    with api_db.begin() as c:  # a command published elsewhere (the CLI) with a plain uuid4
        c.execute(
            insert(t.transition_log).values(
                package_id=package_id, package_ref=str(package_id), slug="NOPE",
                from_status=100, to_status=None, outcome="rejected", reason="no such slug",
                message_id=unknown, created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    assert call(api, keys, "GET", f"/api/v1/package-commands/{unknown}/").json()["status"] == (
        "rejected"
    ), "an outcome is answered whoever published the command"
