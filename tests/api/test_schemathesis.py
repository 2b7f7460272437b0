"""Property-based: schemathesis generates requests from the committed OpenAPI document (the
public contract) and sends them to a running API, with an operator key and with a merchant key:
no 5xx, and every answer conforms to the document (status, content type, body schema)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.conftest import Keys, token
from tests.api.server import ROOT, ApiServer

pytestmark = pytest.mark.services

DOCUMENT = json.loads((ROOT / "schemas/json/openapi.json").read_text(encoding="utf-8"))
schema = schemathesis.openapi.from_dict(DOCUMENT)
EXAMPLES = 12  # per operation and key: the whole file stays well under a minute


@pytest.fixture(scope="module")
def fuzzed_api(
    postgres_url: str, rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """A server of its own with a short wait, so a generated command on a real package
    answers 202 quickly instead of waiting for workers that are not running."""
    server = ApiServer(
        postgres_url,
        rabbitmq_url,
        tmp_path_factory.mktemp("api-fuzz"),
        wait_seconds=0.2,
        name="api-fuzz",
    )
    yield server.start()
    server.stop()


@pytest.fixture(params=["operator", "merchant_a"])
def key(request: pytest.FixtureRequest, keys: Keys) -> str:
    found: str = getattr(keys, request.param)
    return found


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_document(
    case: schemathesis.Case, fuzzed_api: ApiServer, key: str
) -> None:
    # negative_data_rejection is left out: a generated "invalid" query value for an optional
    # parameter (an empty list, say) can serialise to no parameter at all, a valid request that
    # rightly answers 200 (seen on GET /dead-letters/ as `?page=58&limit=21`). Rejection of
    # invalid input is asserted by the API's own tests (422 naming the field and the rule).
    case.call_and_validate(
        base_url=fuzzed_api.url,
        headers=token(key),
        excluded_checks=[schemathesis.checks.negative_data_rejection],
    )
