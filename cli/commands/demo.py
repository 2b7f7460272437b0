"""`oms demo` and `oms schemas export`: development and contracts (`oms omnitron-sim` is in
cli/commands/simulator.py)."""

from __future__ import annotations

import argparse
import sys

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
    demo.add_argument(
        "--keep",
        action="store_true",
        help="with --real-services: keep the database and vhost to look at afterwards "
        "(oms show, oms reservations, the portal); the demo prints their names",
    )
    demo.set_defaults(handler=_demo)

    schemas = subcommands(commands, "schemas", "message contracts")
    schemas.add_parser(
        "export", help="write schemas/json/*.schema.json and the API's openapi.json"
    ).set_defaults(handler=_schemas_export)


def _demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    if args.keep and not args.real_services:
        print(
            "oms: --keep needs --real-services (the embedded demo keeps nothing)", file=sys.stderr
        )
        return 2
    return run_demo(generated=args.orders, real_services=args.real_services, keep=args.keep)


def _schemas_export(args: argparse.Namespace) -> int:
    from api.openapi import write_openapi
    from schemas.export import write_schemas

    for path in write_schemas():
        print(path)
    print(write_openapi())
    return 0
