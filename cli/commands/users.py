"""`oms users create|list|disable|set-password`: people of the web interface (spec 12). The
password is read from the terminal (asked twice) or from stdin, never from an argument."""

from __future__ import annotations

import argparse

from cli.commands import Commands, subcommands


def register(commands: Commands) -> None:
    users = subcommands(commands, "users", "web users (Argon2id password hashes only)")
    create = users.add_parser(
        "create",
        help="make a user; the password is read from the terminal or stdin",
        description="oms users create --operator NAME | --merchant REF NAME",
    )
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--operator", metavar="NAME", help="an operator, named NAME")
    who.add_argument("--merchant", nargs=2, metavar=("REF", "NAME"), help="a merchant's user")
    create.add_argument(
        "--allow-unknown",
        action="store_true",
        help="make a merchant user although no order of that merchant is known yet",
    )
    create.set_defaults(handler=_create)
    listing = users.add_parser("list", help="users by name, kind, merchant; never a password")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    disable = users.add_parser("disable", help="disable a user: its sessions end at once")
    disable.add_argument("name")
    disable.set_defaults(handler=_disable)
    password = users.add_parser("set-password", help="a new password (terminal or stdin)")
    password.add_argument("name")
    password.set_defaults(handler=_set_password)


def _create(args: argparse.Namespace) -> int:
    from cli.users import create

    if args.operator is not None:
        return create(args.operator, merchant=None, allow_unknown=args.allow_unknown)
    reference, name = args.merchant
    return create(name, merchant=reference, allow_unknown=args.allow_unknown)


def _list(args: argparse.Namespace) -> int:
    from cli.users import list_all

    return list_all(as_json=args.json)


def _disable(args: argparse.Namespace) -> int:
    from cli.users import disable

    return disable(args.name)


def _set_password(args: argparse.Namespace) -> int:
    from cli.users import set_password

    return set_password(args.name)
