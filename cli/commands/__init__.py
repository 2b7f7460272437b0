"""`oms` command groups: each module registers its subcommands and holds their thin handlers;
the work itself lives in the modules of `cli/` (and below, in adapters and the domain)."""

from __future__ import annotations

import argparse
from typing import Any

Commands = Any  # argparse's _SubParsersAction (private, so not named here)


def subcommands(commands: Commands, name: str, help: str) -> Any:
    """A command group with required subcommands (`oms NAME ACTION …`)."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help)
    return parser.add_subparsers(dest="action", required=True)
