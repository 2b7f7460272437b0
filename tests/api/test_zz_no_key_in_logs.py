"""Runs last in tests/api: the log output of every API server of the suite holds none of the
keys the tests issued (the access log included), though every key was sent in headers."""

from __future__ import annotations

import pytest
import requests

from tests.api.conftest import Keys, token
from tests.api.server import ISSUED_KEYS, LOG_FILES, ApiServer

pytestmark = pytest.mark.services


def test_no_issued_key_in_any_api_log(api: ApiServer, keys: Keys) -> None:
    # a few more calls that log: success, 401, 403, 404, 422
    for key in (keys.operator, keys.revoked, keys.merchant_a, keys.unknown):
        requests.get(api.url + "/api/v1/orders/?limit=0", headers=token(key), timeout=30)
        requests.get(api.url + "/api/v1/orders/NONE/", headers=token(key), timeout=30)
    assert len(ISSUED_KEYS) >= 5 and LOG_FILES
    logs = {path: path.read_text(encoding="utf-8", errors="replace") for path in LOG_FILES}
    access = logs[api.log]
    assert '"event": "api.request"' in access, "the access log is on"
    assert '"status": 403' in access and '"status": 401' in access
    for path, text in logs.items():
        for key in ISSUED_KEYS:
            assert key not in text, f"a key is in {path.name}"
            assert key[4:20] not in text, f"part of a key is in {path.name}"
        assert "Token oms_" not in text
