"""`oms publish orders FILE|-`, `oms show order NUMBER... [--channel ID] [--json]` and
`oms show order NUMBER --history [--json]`. NUMBER: an order number, else a package number or a
merchant order reference."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from adapters.settings import Settings
from cli.commands import Commands

if TYPE_CHECKING:
    from sqlalchemy import Engine


def register(commands: Commands) -> None:
    publish = commands.add_parser("publish", help="publish messages")
    what = publish.add_subparsers(dest="what", required=True)
    orders = what.add_parser("orders", help="inbound orders to oms.ingest")
    orders.add_argument("file", help="JSON object, JSON array or one object per line; - for stdin")
    orders.set_defaults(handler=_publish_orders)

    show = commands.add_parser("show", help="read stored state").add_subparsers(
        dest="what", required=True
    )
    order = show.add_parser(
        "order", help="orders by number (or by a package number or merchant order reference)"
    )
    order.add_argument("numbers", nargs="+", metavar="NUMBER")
    order.add_argument(
        "--history", action="store_true", help="the order's timeline, every stage, with times"
    )
    order.add_argument("--channel", type=int, help="channel id, when a number exists in several")
    order.add_argument("--json", action="store_true", help="machine-readable output")
    order.set_defaults(handler=_show_order)


def _publish_orders(args: argparse.Namespace) -> int:
    from adapters.messaging.broker import build_broker
    from cli.orders_file import read_bodies
    from cli.publish import publish_orders

    settings = Settings.from_env()
    if settings.embedded_broker:
        raise SystemExit("oms publish needs OMS_BROKER_URL to name a RabbitMQ broker")
    broker = build_broker(settings.broker_url, [])
    try:
        ids = publish_orders(broker, read_bodies(args.file), progress=sys.stderr.isatty())
    finally:
        broker.close()
    print(f"published {len(ids)} order{'' if len(ids) == 1 else 's'} to oms.ingest")
    return 0


def _one(
    engine: Engine, number: str, channel: int | None, orders: list[dict[str, Any]]
) -> dict[str, Any]:
    if not orders:
        from cli.dlq import no_order

        raise SystemExit(no_order(engine, number, channel))
    if len(orders) > 1:
        channels = ", ".join(str(o["channel"]["id"]) for o in orders)
        raise SystemExit(f"order {number!r} exists in channels {channels}: pass --channel ID")
    return orders[0]


def _show_order(args: argparse.Namespace) -> int:
    from adapters.persistence.engine import make_engine
    from adapters.queries.orders import find_orders

    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    if args.history:
        return _show_history(engine, args)
    found = [
        _one(engine, number, args.channel, find_orders(engine, number, args.channel))
        for number in args.numbers
    ]
    document = found[0] if len(found) == 1 else found
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        from cli.table import order_table

        for order in found:
            print(order_table(order))
    return 0


def _show_history(engine: Engine, args: argparse.Namespace) -> int:
    from adapters.queries.history import find_histories

    if len(args.numbers) != 1:
        raise SystemExit("--history shows one order: give one NUMBER")
    (number,) = args.numbers
    document = _one(engine, number, args.channel, find_histories(engine, number, args.channel))
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        from cli.history_table import history_table

        print(history_table(document))
    return 0
