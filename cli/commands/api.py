"""`oms api` (the HTTP API, spec section 11) and `oms tokens create|list|revoke` (its keys)."""

from __future__ import annotations

import argparse

from cli.commands import Commands, subcommands


def register(commands: Commands) -> None:
    api = commands.add_parser("api", help="the HTTP API (FastAPI on uvicorn)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    api.set_defaults(handler=_api)

    tokens = subcommands(commands, "tokens", "API keys (only their hash is stored)")
    create = tokens.add_parser("create", help="make a key and print it once")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--operator", metavar="NAME", help="an operator's key, named NAME")
    who.add_argument("--merchant", metavar="REF", help="a merchant's key, e.g. MER000002")
    create.add_argument("--name", help="a merchant key's name (default: the reference)")
    create.add_argument(
        "--allow-unknown",
        action="store_true",
        help="issue a merchant key although no order of that merchant is known yet",
    )
    create.set_defaults(handler=_create)
    listing = tokens.add_parser("list", help="keys by id, kind, name, prefix; never the key")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    revoke = tokens.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_revoke)


def _api(args: argparse.Namespace) -> int:
    from adapters.logging import configure_logging
    from adapters.settings import Settings
    from api.server import serve

    if args.workers < 1:
        raise SystemExit("--workers must be at least 1")
    from adapters.persistence.budget import check_at_start

    settings = Settings.from_env()  # a bad OMS_API_* stops here, named once, not per worker
    from adapters.persistence.budget import API_ENGINES

    each = API_ENGINES * settings.api_db_connections
    check_at_start(
        settings.database_url,
        f"oms api ({args.workers} worker(s) x {each} connections)",
        args.workers * each,
        settings,
    )
    configure_logging()
    serve(args.host, args.port, args.workers)
    return 0


def _create(args: argparse.Namespace) -> int:
    from cli.tokens import create

    if args.allow_unknown and args.merchant is None:
        raise SystemExit("--allow-unknown goes with --merchant")
    return create(
        operator=args.operator,
        merchant=args.merchant,
        name=args.name,
        allow_unknown=args.allow_unknown,
    )


def _list(args: argparse.Namespace) -> int:
    from cli.tokens import list_all

    return list_all(as_json=args.json)


def _revoke(args: argparse.Namespace) -> int:
    from cli.tokens import revoke

    return revoke(args.id)
