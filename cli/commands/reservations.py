"""`oms reservations [--merchant REF] [--offer REF | --sku SKU] [--json]` and
`oms reservations verify` (spec 9.5)."""

from __future__ import annotations

import argparse

from cli.commands import Commands


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "reservations",
        help="product offer reservations; `verify` recomputes them from the items",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["verify"],
        help="verify: exit 1 naming each offer whose stored figure differs",
    )
    parser.add_argument("--merchant", metavar="REF", help="one merchant's offers")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--offer", metavar="REF", help="one product offer reference")
    which.add_argument("--sku", metavar="SKU", help="one SKU (items with no offer)")
    parser.add_argument("--json", action="store_true", help="JSON instead of a table")
    parser.set_defaults(handler=_reservations)


def _reservations(args: argparse.Namespace) -> int:
    from cli.reservations import list_reservations, verify

    if args.action == "verify":
        return verify()
    return list_reservations(args.merchant, args.offer, args.sku, as_json=args.json)
