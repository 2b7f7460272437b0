"""`oms demo` and `oms schemas export`: development and contracts (`oms omnitron-sim` is in
cli/commands/simulator.py)."""

from __future__ import annotations

import argparse

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

    schemas = subcommands(commands, "schemas", "message contracts")
    schemas.add_parser(
        "export", help="write schemas/json/*.schema.json and the API's openapi.json"
    ).set_defaults(handler=_schemas_export)


def _demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    return run_demo(generated=args.orders, real_services=args.real_services)


def _schemas_export(args: argparse.Namespace) -> int:
    from api.openapi import write_openapi
    from schemas.export import write_schemas

    for path in write_schemas():
        print(path)
    print(write_openapi())
    return 0
