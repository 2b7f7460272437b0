"""`oms demo`, `oms omnitron-sim` and `oms schemas export`: development and contracts."""

from __future__ import annotations

import argparse

from adapters.settings import Settings
from cli.commands import Commands, subcommands


def register(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="the whole flow, embedded (touches nothing real)")
    demo.add_argument(
        "--orders", type=int, default=20, help="generated orders besides the examples"
    )
    demo.add_argument(
        "--real-services",
        action="store_true",
        help="run on PostgreSQL and RabbitMQ, in a database and vhost of its own (removed after)",
    )
    demo.set_defaults(handler=_demo)

    sim = commands.add_parser("omnitron-sim", help="the Omnitron simulator (HTTP)")
    sim.add_argument("--port", type=int, default=8700)
    sim.add_argument("--orders", help="orders to preload (same formats as oms publish)")
    sim.add_argument("--username", help="login user (default OMNITRON_USERNAME or oms)")
    sim.add_argument("--password", help="login password (default OMNITRON_PASSWORD or oms)")
    sim.set_defaults(handler=_omnitron_sim)

    schemas = subcommands(commands, "schemas", "message contracts")
    schemas.add_parser("export", help="write schemas/json/*.schema.json").set_defaults(
        handler=_schemas_export
    )


def _demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    return run_demo(generated=args.orders, real_services=args.real_services)


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


def _schemas_export(args: argparse.Namespace) -> int:
    from schemas.export import write_schemas

    for path in write_schemas():
        print(path)
    return 0
