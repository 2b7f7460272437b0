"""`oms omnitron-sim`: run the Omnitron simulator, and `oms omnitron-sim register FILE` to tell a
running one about orders published after it started (spec section 6)."""

from __future__ import annotations

import argparse

from adapters.settings import Settings
from cli.commands import Commands


def register(commands: Commands) -> None:
    sim = commands.add_parser(
        "omnitron-sim",
        help="the Omnitron simulator (HTTP); `register FILE` tells a running one about orders",
        usage="oms omnitron-sim [--port 8700] [--orders FILE] [--username U] [--password P]\n"
        "       oms omnitron-sim register FILE|- [--url URL]",
    )
    sim.add_argument("--port", type=int, default=8700)
    sim.add_argument("--orders", help="orders to preload (same formats as oms publish)")
    sim.add_argument("--username", help="login user (default OMNITRON_USERNAME or oms)")
    sim.add_argument("--password", help="login password (default OMNITRON_PASSWORD or oms)")
    sim.set_defaults(handler=_omnitron_sim)
    actions = sim.add_subparsers(dest="action", required=False, metavar="register")
    register = actions.add_parser(
        "register",
        help="POST each order to a running simulator's /api/v1/orders/",
        usage="oms omnitron-sim [--username U] [--password P] register FILE|- [--url URL]",
    )
    register.add_argument("file", help="JSON object, JSON array or one object per line; - stdin")
    register.add_argument("--url", help="the simulator (default OMNITRON_URL)")
    register.set_defaults(handler=_register)


def _omnitron_sim(args: argparse.Namespace) -> int:
    from adapters.omnitron.simulator import run_simulator

    settings = Settings.from_env()
    run_simulator(
        args.port,
        args.username or settings.omnitron_username,
        args.password or settings.omnitron_password,
        args.orders,
    )
    return 0


def _register(args: argparse.Namespace) -> int:
    from cli.simulator import register_orders

    settings = Settings.from_env()
    return register_orders(
        args.file,
        url=args.url or settings.omnitron_url,
        username=args.username or settings.omnitron_username,
        password=args.password or settings.omnitron_password,
    )
