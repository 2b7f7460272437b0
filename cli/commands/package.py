"""`oms package command` and `oms cargo-conditions add`: the seed's two calls (spec section 5)."""

from __future__ import annotations

import argparse

from cli.commands import Commands, subcommands


def register(commands: Commands) -> None:
    package = subcommands(commands, "package", "packages")
    command = package.add_parser("command", help="publish a packaging command")
    command.add_argument("package", help="package id or number")
    command.add_argument("slug", help="e.g. CHANNEL_BASED_COMPLETE_PACKAGING")
    command.add_argument(
        "--wait", action="store_true", help="print the outcome; exit 1 if rejected"
    )
    command.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    command.set_defaults(handler=_package_command)

    cargo = subcommands(commands, "cargo-conditions", "cargo company conditions")
    add = cargo.add_parser("add", help="the seed's POST /cargo-company-conditions/ body")
    add.add_argument("file")
    add.set_defaults(handler=_cargo_conditions_add)


def _package_command(args: argparse.Namespace) -> int:
    from cli.package import package_command

    return package_command(args.package, args.slug, wait=args.wait, timeout=args.timeout)


def _cargo_conditions_add(args: argparse.Namespace) -> int:
    from cli.package import add_cargo_conditions

    return add_cargo_conditions(args.file)
