"""`oms db upgrade` and `oms db connections`."""

from __future__ import annotations

import argparse
import os

from adapters.settings import Settings
from cli.commands import Commands, subcommands


def register(commands: Commands) -> None:
    db = subcommands(commands, "db", "database")
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=_upgrade)
    connections = db.add_parser(
        "connections",
        help="each process type's most PostgreSQL connections, the stack's total, the server's",
    )
    connections.add_argument(
        "--scale",
        default="",
        help="processes per type as honcho's -c takes them, e.g. ingest=2,split=2 (others: 1)",
    )
    connections.add_argument(
        "--api-workers",
        type=int,
        default=None,
        help="uvicorn workers of the api line (default OMS_API_WORKERS, else 2: the Procfile's)",
    )
    connections.set_defaults(handler=_connections)


def _upgrade(args: argparse.Namespace) -> int:
    from adapters.persistence.migrate import upgrade

    settings = Settings.from_env()
    url = settings.database_url
    if settings.pooled:
        # Alembic's DDL and `CREATE DATABASE` want a session of their own: not a pooler's
        if settings.database_direct_url is None:
            raise SystemExit(
                "oms db upgrade does not run through PgBouncer (OMS_DATABASE_POOLER=pgbouncer): "
                "set OMS_DATABASE_DIRECT_URL to the PostgreSQL server itself "
                "(e.g. postgresql://postgres@db-host:5432/oms) and run it again"
            )
        url = settings.database_direct_url
    applied = upgrade(url)
    for line in applied:
        print(f"applied {line}")
    print("database is at the latest migration" + ("" if applied else "; none were due"))
    return 0


def _connections(args: argparse.Namespace) -> int:
    from cli.db_connections import report

    workers = args.api_workers
    if workers is None:
        raw = os.environ.get("OMS_API_WORKERS", "")
        workers = int(raw) if raw.isdigit() and int(raw) > 0 else 2
    return report(args.scale, workers)
