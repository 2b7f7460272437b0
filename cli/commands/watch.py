"""Watching the pipeline: `oms queues`, `oms health`, `oms metrics`."""

from __future__ import annotations

import argparse

from cli.commands import Commands


def register(commands: Commands) -> None:
    queues = commands.add_parser("queues", help="every pipeline queue: depth, consumers, rates")
    queues.add_argument("--json", action="store_true", help="stable JSON for scripts")
    queues.add_argument("--watch", action="store_true", help="refresh in place; outlives outages")
    queues.add_argument("--interval", type=float, default=2.0, help="seconds between reads")
    queues.set_defaults(handler=_queues)

    health = commands.add_parser("health", help="database, broker, Omnitron; exit 1 when down")
    health.add_argument("--json", action="store_true")
    health.set_defaults(handler=_health)

    gauges = commands.add_parser("metrics", help="database gauges in Prometheus' text format")
    gauges.add_argument("--serve", type=int, metavar="PORT", help="serve them on 127.0.0.1:PORT")
    gauges.set_defaults(handler=_metrics)


def _queues(args: argparse.Namespace) -> int:
    from cli.queues import queues

    return queues(as_json=args.json, watch=args.watch, interval=args.interval)


def _health(args: argparse.Namespace) -> int:
    from cli.queues import health

    return health(as_json=args.json)


def _metrics(args: argparse.Namespace) -> int:
    from cli.metrics import metrics

    return metrics(serve=args.serve)
