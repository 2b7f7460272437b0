"""`oms package command` (one package, or every package in a state), `oms packages list` and
`oms cargo-conditions add` (spec sections 5 and 8)."""

from __future__ import annotations

import argparse

from cli.commands import Commands, subcommands


def register(commands: Commands) -> None:
    package = subcommands(commands, "package", "packaging commands")
    command = package.add_parser(
        "command",
        help="publish a packaging command for one package, or for every package in a state",
        usage="oms package command PACKAGE SLUG [--channel ID] [--wait] [--timeout S]\n"
        "       oms package command --status S [--channel ID] SLUG [--timeout S] [--json]",
    )
    command.add_argument("targets", nargs="+", metavar="[PACKAGE] SLUG", help=argparse.SUPPRESS)
    command.add_argument(
        "--wait", action="store_true", help="one package: print the outcome; exit 1 if rejected"
    )
    command.add_argument(
        "--status", help="bulk: every package in this state (name or code, e.g. waiting)"
    )
    command.add_argument(
        "--channel",
        type=int,
        help="the package number's channel (a number is unique per channel); bulk: only this "
        "channel's packages",
    )
    command.add_argument(
        "--timeout",
        type=float,
        help="seconds to wait for the outcomes (default 60 for one package, 120 for bulk)",
    )
    command.add_argument("--json", action="store_true", help="bulk: the summary as JSON")
    command.set_defaults(handler=_package_command, parser=command)

    packages = subcommands(commands, "packages", "read packages")
    listing = packages.add_parser("list", help="packages with their order, merchant, status, age")
    listing.add_argument("--status", help="only this state (name or code, e.g. waiting or 100)")
    listing.add_argument("--channel", type=int, help="only this channel's packages")
    listing.add_argument("--limit", type=int, help="at most this many (oldest first)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_packages_list)

    cargo = subcommands(commands, "cargo-conditions", "cargo company conditions")
    add = cargo.add_parser("add", help="the seed's POST /cargo-company-conditions/ body")
    add.add_argument("file")
    add.set_defaults(handler=_cargo_conditions_add)


def _status(text: str | None) -> int | None:
    from adapters.queries.packages import status_code

    if text is None:
        return None
    try:
        return status_code(text)
    except ValueError as error:
        raise SystemExit(str(error)) from None


def _package_command(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if args.status is not None:
        if len(args.targets) != 1:
            parser.error("with --status give only the SLUG (the packages are those in the state)")
        if args.wait:
            parser.error("--wait is for one package; the bulk command always awaits outcomes")
        from cli.package_bulk import bulk_package_command

        timeout = 120.0 if args.timeout is None else args.timeout
        status = _status(args.status)
        assert status is not None
        return bulk_package_command(
            args.targets[0], status, args.channel, timeout=timeout, as_json=args.json
        )
    if len(args.targets) != 2:
        parser.error("give PACKAGE and SLUG, or --status S and SLUG")
    if args.json:
        parser.error("--json goes with --status (the bulk command)")
    from cli.package import package_command

    package, slug = args.targets
    timeout = 60.0 if args.timeout is None else args.timeout
    return package_command(package, slug, wait=args.wait, timeout=timeout, channel=args.channel)


def _packages_list(args: argparse.Namespace) -> int:
    from cli.packages_list import packages_list

    return packages_list(_status(args.status), args.channel, limit=args.limit, as_json=args.json)


def _cargo_conditions_add(args: argparse.Namespace) -> int:
    from cli.package import add_cargo_conditions

    return add_cargo_conditions(args.file)
