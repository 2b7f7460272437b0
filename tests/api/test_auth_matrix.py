"""Spec section 11's authorization on every endpoint: no key, a malformed header, an unknown
key and a revoked key answer 401; merchant keys on operator endpoints 403; the operator's key
reaches the endpoint (its own answer, checked here by status)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from adapters.messaging.message_ids import new_message_id
from tests.api.conftest import Keys, token
from tests.api.server import ApiServer

pytestmark = pytest.mark.services

SEED_CONDITIONS = {
    "cargo_company": 1,
    "rules_configuration": {
        "rules": [
            {
                "klass": "oms.shipments.shipment_conditions.ChannelBasedOrdersCondition",
                "params": {
                    "condition_type": "sales_channel",
                    "channels": [42],
                    "conf": {
                        "klass": "oms.shipments.clients.omnitron_shipment_client."
                        "OmnitronShipmentClient"
                    },
                },
            }
        ]
    },
}

# (method, path, body, the operator's status)
OPERATOR_ENDPOINTS: list[tuple[str, str, Any, int]] = [
    ("GET", "/api/v1/orders/", None, 200),
    ("GET", "/api/v1/orders/NO-SUCH-ORDER/", None, 404),
    ("GET", "/api/v1/orders/NO-SUCH-ORDER/history/", None, 404),
    ("POST", "/api/v1/packages/987654321/command/", {"slug": "X", "input_parameters": {}}, 404),
    ("GET", f"/api/v1/package-commands/{new_message_id()}/", None, 200),  # pending
    ("POST", "/api/v1/cargo-company-conditions/", SEED_CONDITIONS, 201),
    ("GET", "/api/v1/dead-letters/", None, 200),
    ("POST", "/api/v1/dead-letters/987654321/replay/", None, 404),
    ("GET", "/api/v1/queues/", None, 200),
    ("GET", "/api/v1/reservations/", None, 200),
]
# ids stable across processes (pytest-xdist collects in each worker): no random id in a name
IDS = [
    f"{method} {'/api/v1/package-commands/{id}/' if 'package-commands' in path else path}"
    for method, path, _, _ in OPERATOR_ENDPOINTS
]


def call(api: ApiServer, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return requests.request(method, api.url + path, json=body, headers=headers, timeout=30)


def unauthenticated(keys: Keys) -> dict[str, dict[str, str]]:
    return {
        "no key": {},
        "not a Token header": {"Authorization": f"Bearer {keys.operator}"},
        "empty Token": {"Authorization": "Token "},
        "unknown key": token(keys.unknown),
        "revoked key": token(keys.revoked),
    }


@pytest.mark.parametrize(("method", "path", "body", "expected"), OPERATOR_ENDPOINTS, ids=IDS)
def test_operator_endpoint_authorization_matrix(
    api: ApiServer, keys: Keys, method: str, path: str, body: Any, expected: int
) -> None:
    for who, headers in unauthenticated(keys).items():
        answer = call(api, method, path, body, headers)
        assert answer.status_code == 401, (who, answer.text)
        assert answer.headers["WWW-Authenticate"] == "Token"
        assert set(answer.json()) == {"detail"}, who
    # the key before the query: a caller without one learns nothing of the parameters
    answer = call(api, method, path + "?no_such_parameter=1", body, {})
    assert answer.status_code == 401, answer.text
    for who, key in (("merchant A", keys.merchant_a), ("merchant B", keys.merchant_b)):
        answer = call(api, method, path, body, token(key))
        assert answer.status_code == 403, (who, answer.text)
        assert answer.json() == {"detail": "this endpoint needs an operator token"}
    answer = call(api, method, path, body, token(keys.operator))
    assert answer.status_code == expected, answer.text


def test_healthz_needs_no_key(api: ApiServer, keys: Keys) -> None:
    for headers in ({}, token(keys.revoked), token(keys.merchant_a)):
        answer = requests.get(api.url + "/healthz", headers=headers, timeout=30)
        assert answer.status_code == 200
        assert answer.json() == {"healthy": True, "checks": {"database": "ok", "broker": "ok"}}


def test_every_documented_operation_is_in_the_matrix(api: ApiServer) -> None:
    document = requests.get(api.url + "/api/v1/openapi.json", timeout=30).json()
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    covered = {(m, p.replace("NO-SUCH-ORDER", "{number}")) for m, p, _, _ in OPERATOR_ENDPOINTS}
    covered = {
        (m, p.replace("987654321", "{package_id}" if "packages" in p else "{letter_id}"))
        for m, p in covered
    }
    covered = {
        (m, "/api/v1/package-commands/{command_id}/" if "package-commands" in p else p)
        for m, p in covered
    }
    covered.add(("GET", "/healthz"))
    operator_side = {(m, p) for m, p in documented if not p.startswith("/api/v1/merchant/")}
    assert operator_side == covered
