"""`oms tokens create|list|revoke`: the key is printed once and only its sha256 is stored; the
list never shows it; a revoked key stops working at once."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import requests
from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.api_tokens import KEY_TTL_SECONDS
from tests.api.conftest import token
from tests.api.server import ISSUED_KEYS, ROOT, ApiServer
from tests.api.stored import example, store

pytestmark = pytest.mark.services


def oms(postgres_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, "OMS_DATABASE_URL": postgres_url, "PYTHONPATH": str(ROOT)},
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_create_list_revoke(postgres_url: str, api_db: Engine, api: ApiServer) -> None:
    made = oms(
        postgres_url, "tokens", "create", "--merchant", "MER000009", "--name", "shop 9",
        "--allow-unknown",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    ISSUED_KEYS.append(key)
    assert key.startswith("oms_") and len(key) >= 40
    token_id = int(made.stdout.split()[1])
    with api_db.connect() as c:
        row = c.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {str(v) for v in row}  # only the hash and a prefix
    assert key.startswith(row.prefix) and len(row.prefix) <= 10
    assert (row.kind, row.name, row.merchant_reference) == ("merchant", "shop 9", "MER000009")

    listed = oms(postgres_url, "tokens", "list", "--json")
    assert listed.returncode == 0 and key not in listed.stdout
    mine = [t for t in json.loads(listed.stdout) if t["id"] == token_id]
    assert mine[0]["revoked_at"] is None and mine[0]["prefix"] == row.prefix
    assert key not in oms(postgres_url, "tokens", "list").stdout

    orders = api.url + "/api/v1/orders/"
    assert requests.get(orders, headers=token(key), timeout=30).status_code == 403
    assert oms(postgres_url, "tokens", "revoke", str(token_id)).returncode == 0
    time.sleep(KEY_TTL_SECONDS)  # a key's answer is kept a second at most (issue 22)
    assert requests.get(orders, headers=token(key), timeout=30).status_code == 401
    again = oms(postgres_url, "tokens", "revoke", str(token_id))
    assert again.returncode != 0 and f"no live token {token_id}" in again.stderr


def test_create_needs_exactly_one_owner(postgres_url: str) -> None:
    assert oms(postgres_url, "tokens", "create").returncode != 0
    both = oms(postgres_url, "tokens", "create", "--operator", "a", "--merchant", "M")
    assert both.returncode != 0
    operator = oms(postgres_url, "tokens", "create", "--operator", "ops")
    assert operator.returncode == 0
    ISSUED_KEYS.append(operator.stdout.strip().splitlines()[-1])


def test_a_key_for_an_unknown_merchant_is_refused_unless_allowed(
    postgres_url: str, api_db: Engine
) -> None:
    """A typo in --merchant used to make a key that silently sees nothing (issue 21 item 20)."""
    unknown = f"NOSUCH{uuid.uuid4().hex[:6].upper()}"
    refused = oms(postgres_url, "tokens", "create", "--merchant", unknown)
    assert refused.returncode != 0 and refused.stdout == ""
    assert f"merchant {unknown!r} is unknown here" in refused.stderr
    assert "--allow-unknown" in refused.stderr
    with api_db.connect() as c:
        stored = c.execute(
            select(t.api_tokens.c.id).where(t.api_tokens.c.merchant_reference == unknown)
        ).all()
    assert stored == [], "no key was made"
    allowed = oms(postgres_url, "tokens", "create", "--merchant", unknown, "--allow-unknown")
    assert allowed.returncode == 0 and "unknown here yet" in allowed.stderr
    ISSUED_KEYS.append(allowed.stdout.strip().splitlines()[-1])
    store(api_db, example())  # MER000002 and MER000005 are known from now on
    known = oms(postgres_url, "tokens", "create", "--merchant", "MER000002")
    assert known.returncode == 0, known.stderr
    ISSUED_KEYS.append(known.stdout.strip().splitlines()[-1])
