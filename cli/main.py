"""`oms`: the operator's command line (spec section 8). Exit 0 on success, else non-zero with a
one-line reason on stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence

from adapters.settings import Settings

Handler = Callable[[argparse.Namespace], int]


def _db_upgrade(args: argparse.Namespace) -> int:
    from adapters.persistence.migrate import upgrade

    upgrade(Settings.from_env().database_url)
    print("database is at the latest migration")
    return 0


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
    print(f"published {len(ids)} orders to oms.ingest")
    return 0


def _show_order(args: argparse.Namespace) -> int:
    from adapters.persistence.engine import make_engine
    from adapters.persistence.unit_of_work import SqlUnitOfWork
    from cli.views import find_orders

    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    found = []
    for number in args.numbers:
        orders = find_orders(SqlUnitOfWork(engine), number, args.channel)
        if not orders:
            raise SystemExit(
                f"no order {number!r}" + (f" in channel {args.channel}" if args.channel else "")
            )
        if len(orders) > 1:
            channels = ", ".join(str(o["channel"]["id"]) for o in orders)
            raise SystemExit(f"order {number!r} exists in channels {channels}: pass --channel ID")
        found.append(orders[0])
    document = found[0] if len(found) == 1 else found
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        from cli.table import order_table

        for order in found:
            print(order_table(order))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    return run_demo(generated=args.orders)


def _bench_ingest(args: argparse.Namespace) -> int:
    from cli.bench import bench_ingest

    return bench_ingest(orders=args.orders, processes=args.processes, threads=args.threads)


def _outbox_sweep(args: argparse.Namespace) -> int:
    from cli.outbox import sweep

    return sweep(loop=args.loop, interval=args.interval, older_than=args.older_than)


def _package_command(args: argparse.Namespace) -> int:
    from cli.package import package_command

    return package_command(args.package, args.slug, wait=args.wait, timeout=args.timeout)


def _cargo_conditions_add(args: argparse.Namespace) -> int:
    from cli.package import add_cargo_conditions

    return add_cargo_conditions(args.file)


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


def _scheduler(args: argparse.Namespace) -> int:
    from cli.poll import scheduler

    return scheduler(once=args.once)


def _poll(args: argparse.Namespace) -> int:
    from cli.poll import poll_flag, poll_now

    return poll_now() if args.action == "run" else poll_flag(args.action)


def _bench_poll(args: argparse.Namespace) -> int:
    from cli.bench_poll import bench_poll

    return bench_poll(
        packages=args.packages,
        processes=args.processes,
        threads=args.threads,
        batch_size=args.batch_size,
    )


def _dlq(args: argparse.Namespace) -> int:
    from cli import dlq

    if args.action == "keep":
        return dlq.keep(loop=args.loop)
    if args.queue is None:
        raise SystemExit(f"oms dlq {args.action} needs a QUEUE")
    if args.action == "list":
        return dlq.list_letters(args.queue, as_json=args.json)
    if args.action == "show":
        if args.id is None:
            raise SystemExit("oms dlq show needs --id ID")
        return dlq.show(args.queue, args.id)
    return dlq.replay(args.queue, record_id=args.id, every=args.all, dry_run=args.dry_run)


def _queues(args: argparse.Namespace) -> int:
    from cli.queues import queues

    return queues(as_json=args.json, watch=args.watch)


def _health(args: argparse.Namespace) -> int:
    from cli.queues import health

    return health(as_json=args.json)


def _metrics(args: argparse.Namespace) -> int:
    from cli.metrics import metrics

    return metrics(serve=args.serve)


def _worker(args: argparse.Namespace) -> int:
    from cli.worker import run_worker

    threads = args.threads or Settings.from_env().worker_threads
    return run_worker(
        args.stage, processes=args.processes, threads=threads, metrics_port=args.metrics_port
    )


def _schemas_export(args: argparse.Namespace) -> int:
    from schemas.export import write_schemas

    for path in write_schemas():
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oms", description="Marketplace order pipeline")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=_db_upgrade)

    publish = commands.add_parser("publish", help="publish messages")
    what = publish.add_subparsers(dest="what", required=True)
    orders = what.add_parser("orders", help="inbound orders to oms.ingest")
    orders.add_argument("file", help="JSON object, JSON array or one object per line; - for stdin")
    orders.set_defaults(handler=_publish_orders)

    show = commands.add_parser("show", help="read stored state").add_subparsers(
        dest="what", required=True
    )
    order = show.add_parser("order", help="orders by number")
    order.add_argument("numbers", nargs="+", metavar="NUMBER")
    order.add_argument("--channel", type=int, help="channel id, when a number exists in several")
    order.add_argument("--json", action="store_true", help="machine-readable output")
    order.set_defaults(handler=_show_order)

    demo = commands.add_parser("demo", help="the whole flow; embedded unless OMS_* URLs are set")
    demo.add_argument(
        "--orders", type=int, default=20, help="generated orders besides the examples"
    )
    demo.set_defaults(handler=_demo)

    bench = commands.add_parser("bench", help="benchmarks").add_subparsers(
        dest="what", required=True
    )
    ingest = bench.add_parser("ingest", help="ingestion throughput vs a no-op dramatiq chain")
    ingest.add_argument("--orders", type=int, default=2000)
    ingest.add_argument("--processes", type=int, default=2)
    ingest.add_argument("--threads", type=int, default=8)
    ingest.set_defaults(handler=_bench_ingest)

    poll_bench = bench.add_parser("poll", help="one poll cycle over N packed packages")
    poll_bench.add_argument("--packages", type=int, default=10_000)
    poll_bench.add_argument("--processes", type=int, default=2)
    poll_bench.add_argument("--threads", type=int, default=8)
    poll_bench.add_argument("--batch-size", type=int, default=100)
    poll_bench.set_defaults(handler=_bench_poll)

    sched = commands.add_parser("scheduler", help="tick the status poll every interval")
    sched.add_argument("--once", action="store_true", help="one tick, then exit")
    sched.set_defaults(handler=_scheduler)

    poll = commands.add_parser("poll", help="the status poll's switch, or a cycle now")
    poll.add_argument("action", choices=["on", "off", "status", "run"])
    poll.set_defaults(handler=_poll)

    queues = commands.add_parser("queues", help="every pipeline queue: depth, consumers, rates")
    queues.add_argument("--json", action="store_true", help="stable JSON for scripts")
    queues.add_argument("--watch", action="store_true", help="refresh in place every 2 s")
    queues.set_defaults(handler=_queues)

    health = commands.add_parser("health", help="database, broker, Omnitron; exit 1 when down")
    health.add_argument("--json", action="store_true")
    health.set_defaults(handler=_health)

    worker = commands.add_parser("worker", help="run one stage's dramatiq workers")
    worker.add_argument("stage", choices=["ingest", "split", "packaging", "report", "poll", "all"])
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument("--threads", type=int, help="per process (default OMS_WORKER_THREADS)")
    worker.add_argument("--metrics-port", type=int, help="Prometheus metrics on 127.0.0.1:PORT")
    worker.set_defaults(handler=_worker)

    gauges = commands.add_parser("metrics", help="database gauges in Prometheus' text format")
    gauges.add_argument("--serve", type=int, metavar="PORT", help="serve them on 127.0.0.1:PORT")
    gauges.set_defaults(handler=_metrics)

    dlq = commands.add_parser("dlq", help="dead letters: keep, list, show, replay")
    dlq.add_argument("action", choices=["keep", "list", "show", "replay"])
    dlq.add_argument("queue", nargs="?", help="e.g. oms.ingest")
    dlq.add_argument("--id", type=int, help="one dead letter (the id oms dlq list shows)")
    dlq.add_argument("--all", action="store_true", help="every dead letter not replayed yet")
    dlq.add_argument("--dry-run", action="store_true", help="say what would be replayed")
    dlq.add_argument("--json", action="store_true", help="list as JSON")
    dlq.add_argument("--loop", action="store_true", help="keep: keep moving (Procfile)")
    dlq.set_defaults(handler=_dlq)

    outbox = commands.add_parser("outbox", help="the outbox").add_subparsers(
        dest="action", required=True
    )
    sweep = outbox.add_parser("sweep", help="publish what a crash left unsent")
    sweep.add_argument("--loop", action="store_true", help="keep sweeping (the Procfile process)")
    sweep.add_argument("--interval", type=float, default=5.0, help="seconds between sweeps")
    sweep.add_argument(
        "--older-than", type=float, default=30.0, help="seconds a row waits before it is swept"
    )
    sweep.set_defaults(handler=_outbox_sweep)

    package = commands.add_parser("package", help="packages").add_subparsers(
        dest="action", required=True
    )
    command = package.add_parser("command", help="publish a packaging command")
    command.add_argument("package", help="package id or number")
    command.add_argument("slug", help="e.g. CHANNEL_BASED_COMPLETE_PACKAGING")
    command.add_argument(
        "--wait", action="store_true", help="print the outcome; exit 1 if rejected"
    )
    command.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    command.set_defaults(handler=_package_command)

    cargo = commands.add_parser("cargo-conditions", help="cargo company conditions")
    cargo_actions = cargo.add_subparsers(dest="action", required=True)
    add = cargo_actions.add_parser("add", help="the seed's POST /cargo-company-conditions/ body")
    add.add_argument("file")
    add.set_defaults(handler=_cargo_conditions_add)

    sim = commands.add_parser("omnitron-sim", help="the Omnitron simulator (HTTP)")
    sim.add_argument("--port", type=int, default=8700)
    sim.add_argument("--orders", help="orders to preload (same formats as oms publish)")
    sim.add_argument("--username", help="login user (default OMNITRON_USERNAME or oms)")
    sim.add_argument("--password", help="login password (default OMNITRON_PASSWORD or oms)")
    sim.set_defaults(handler=_omnitron_sim)

    schemas = commands.add_parser("schemas", help="message contracts").add_subparsers(
        dest="action", required=True
    )
    schemas.add_parser("export", help="write schemas/json/*.schema.json").set_defaults(
        handler=_schemas_export
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from adapters.logging import configure_logging

    # logs are JSON on stderr, never on stdout (which --json output and pipes read);
    # long-running commands (scheduler, sweeper, keeper) raise the level to INFO themselves
    configure_logging(os.environ.get("OMS_LOG_LEVEL", "WARNING"))
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except Exception as error:  # one line for the operator; details go to the JSON log
        print(f"oms: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
