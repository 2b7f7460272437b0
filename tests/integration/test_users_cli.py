"""`oms users create|list|disable|set-password` (spec 12): the password comes from stdin (or
the terminal), never from an argument; only an Argon2id hash is stored; the list never shows a
hash; a new password ends the old one; a disabled user cannot log in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.users import authenticate
from tests.api.server import ROOT

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    made = make_engine(postgres_url, pool_size=1)
    yield made
    made.dispose()


def oms(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "users", *args],
        env={**os.environ, "OMS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_create_list_set_password_disable(postgres_url: str, engine: Engine) -> None:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    password, later = "first password 1", "second password 2"
    made = oms(postgres_url, "create", "--merchant", "MER000077", name, "--allow-unknown",
               stdin=password + "\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert password not in made.stdout + made.stderr
    with engine.connect() as c:
        row = c.execute(select(t.users).where(t.users.c.username == name)).one()
    assert row.password_hash.startswith("$argon2id$") and password not in row.password_hash
    assert (row.kind, row.merchant_reference) == ("merchant", "MER000077")
    assert authenticate(engine, name, password).user is not None

    listed = oms(postgres_url, "list", "--json")
    assert listed.returncode == 0
    mine = [u for u in json.loads(listed.stdout) if u["username"] == name]
    assert mine[0]["disabled_at"] is None and "argon2" not in listed.stdout
    assert name in oms(postgres_url, "list").stdout

    assert oms(postgres_url, "create", "--operator", name, stdin="another one 123\n").returncode
    assert oms(postgres_url, "set-password", name, stdin="short\n").returncode  # too short
    changed = oms(postgres_url, "set-password", name, stdin=later + "\n")
    assert changed.returncode == 0, changed.stderr
    assert authenticate(engine, name, password).user is None
    assert authenticate(engine, name, later).user is not None

    assert oms(postgres_url, "disable", name).returncode == 0
    assert authenticate(engine, name, later).user is None
    assert oms(postgres_url, "disable", name).returncode  # not an enabled user any more


def test_no_password_argument_and_unknown_merchants_refused(postgres_url: str) -> None:
    assert oms(postgres_url, "create", "--operator", "x", "--password", "p").returncode == 2
    unknown = oms(
        postgres_url, "create", "--merchant", "NOPE999", "someone", stdin="long enough 1\n"
    )
    assert unknown.returncode and "unknown here" in unknown.stderr
