"""`oms merchant event` and `oms process show`: merchant events and processes (spec 9.2, 9.3)."""

from __future__ import annotations

import argparse

from cli.commands import Commands, subcommands


def register(commands: Commands) -> None:
    merchant = subcommands(commands, "merchant", "merchant events")
    event = merchant.add_parser("event", help="publish a merchant event to oms.merchant")
    event.add_argument("merchant_order", metavar="MERCHANT_ORDER", help="e.g. TY-100042--MER000002")
    event.add_argument("event", metavar="EVENT", help='e.g. "cancel by merchant"')
    event.add_argument("--items", help="comma-separated item references (default: every item)")
    event.add_argument(
        "--wait", action="store_true", help="print each item's outcome; exit 1 if any rejected"
    )
    event.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    event.set_defaults(handler=_merchant_event)

    process = subcommands(commands, "process", "merchant processes")
    show = process.add_parser("show", help="a merchant process's transitions")
    show.add_argument("name", metavar="NAME", help="e.g. MerchantDefaultStateMachine")
    show.add_argument("--dot", action="store_true", help="Graphviz DOT instead of a table")
    show.set_defaults(handler=_process_show)


def _merchant_event(args: argparse.Namespace) -> int:
    from cli.merchant import merchant_event

    items = [i.strip() for i in args.items.split(",") if i.strip()] if args.items else None
    return merchant_event(
        args.merchant_order, args.event, items, wait=args.wait, timeout=args.timeout
    )


def _process_show(args: argparse.Namespace) -> int:
    from cli.merchant import process_show

    return process_show(args.name, dot=args.dot)
