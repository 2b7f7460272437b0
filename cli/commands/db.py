"""`oms db upgrade`."""

from __future__ import annotations

import argparse

from adapters.settings import Settings
from cli.commands import Commands, subcommands


def register(commands: Commands) -> None:
    db = subcommands(commands, "db", "database")
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from adapters.persistence.migrate import upgrade

    applied = upgrade(Settings.from_env().database_url)
    for line in applied:
        print(f"applied {line}")
    print("database is at the latest migration" + ("" if applied else "; none were due"))
    return 0
