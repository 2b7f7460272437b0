"""`oms db upgrade`: apply the Alembic migrations (the only way the schema is made)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.settings import database_url_with_driver


def alembic_config(url: str) -> Config:
    config = Config()
    url = database_url_with_driver(url)
    config.set_main_option("script_location", "adapters.persistence:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in the URL when it does not exist yet."""
    parsed = make_url(database_url_with_driver(url))
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).first()
            if exists is None:
                connection.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    finally:
        server.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None before the first migration."""
    engine = create_engine(database_url_with_driver(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def pending_revisions(url: str, revision: str = "head") -> list[Script]:
    """The migrations `upgrade` would apply, oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    current = current_revision(url)
    return list(reversed(list(scripts.iterate_revisions(revision, current))))


def upgrade(url: str, revision: str = "head") -> list[str]:
    """Apply the migrations that are due; returns them as `0004 (merchants)` lines."""
    ensure_database(url)
    due = [f"{s.revision} ({s.doc})" for s in pending_revisions(url, revision)]
    command.upgrade(alembic_config(url), revision)
    return due
