from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from adapters.persistence.api_tokens import MERCHANT, OPERATOR, create_token, revoke_token
from adapters.persistence.engine import make_engine
from tests.api.server import ISSUED_KEYS, ApiServer


@dataclass(frozen=True)
class Keys:
    operator: str
    merchant_a: str  # MER000002
    merchant_b: str  # MER000005
    revoked: str
    unknown: str


@pytest.fixture(scope="session")
def api_db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def api(
    postgres_url: str, rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    server = ApiServer(postgres_url, rabbitmq_url, tmp_path_factory.mktemp("api-logs"))
    server.start()
    yield server
    server.stop()


def issue(engine: Engine, kind: str, name: str, merchant: str | None = None) -> tuple[int, str]:
    token_id, key = create_token(engine, kind=kind, name=name, merchant_reference=merchant)
    ISSUED_KEYS.append(key)
    return token_id, key


@pytest.fixture(scope="session")
def keys(api_db: Engine) -> Keys:
    _, operator = issue(api_db, OPERATOR, "ops-test")
    _, merchant_a = issue(api_db, MERCHANT, "shop a", "MER000002")
    _, merchant_b = issue(api_db, MERCHANT, "shop b", "MER000005")
    revoked_id, revoked = issue(api_db, OPERATOR, "ops-gone")
    assert revoke_token(api_db, revoked_id)
    unknown = "oms_" + secrets.token_urlsafe(32)  # well-formed, never issued
    ISSUED_KEYS.append(unknown)
    return Keys(operator, merchant_a, merchant_b, revoked, unknown)


def token(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}
