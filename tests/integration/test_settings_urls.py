"""`OMS_DATABASE_URL=postgresql://…` (no driver named) works for every command (issue 8, item 11):
SQLAlchemy 2.1 reads that form as psycopg 3, which the project does not install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]


def oms(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_plain_postgresql_urls_work_for_commands(postgres_url: str, rabbitmq_url: str) -> None:
    plain = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    assert plain.startswith("postgresql://")
    for url in (plain, "postgres://" + plain.removeprefix("postgresql://")):
        env = {"OMS_DATABASE_URL": url, "OMS_BROKER_URL": rabbitmq_url}
        upgraded = oms(env, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        listed = oms(env, "dlq", "list", "oms.ingest", "--json")
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.startswith("[")
