"""`oms bench ingest|poll|api|reservations`: thin entries to the benchmarks in benchmarks/
(docs/benchmarks.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.commands import Commands


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text}: must be a positive whole number")
    return value


def register(commands: Commands) -> None:
    bench = commands.add_parser("bench", help="benchmarks").add_subparsers(
        dest="what", required=True
    )
    ingest = bench.add_parser("ingest", help="ingestion throughput vs a no-op dramatiq chain")
    ingest.add_argument("--orders", type=int, default=2000)
    ingest.add_argument("--processes", type=int, default=2)
    ingest.add_argument(
        "--threads",
        type=int,
        help="per process (default OMS_GROUP_THREADS, as ingest and split run)",
    )
    ingest.add_argument(
        "--latency-orders",
        type=_positive,
        metavar="N",
        help="orders of the paced latency phase (default: a quarter of --orders, at least 100)",
    )
    ingest.add_argument(
        "--rounds",
        type=_positive,
        metavar="N",
        help="rounds of pipeline then no-op chain; the ratio is their median (default 5)",
    )
    ingest.add_argument(
        "--min-seconds",
        type=float,
        metavar="S",
        help="each phase of a round repeats batches of --orders until S seconds (default 15)",
    )
    spy = ingest.add_argument_group("profile (py-spy over the worker processes, pipeline phase)")
    spy.add_argument("--profile", type=Path, metavar="DIR", help="write the recording into DIR")
    spy.add_argument(
        "--profile-mode",
        choices=["gil", "active", "idle"],
        default="gil",
        help="gil: CPU in Python; active: not idle; idle: wall clock, waits included",
    )
    spy.add_argument("--profile-format", choices=["raw", "speedscope"], default="raw")
    soak = ingest.add_argument_group("soak (memory over a long stream; one process per stage)")
    soak.add_argument("--soak", action="store_true", help="RSS per stage instead of throughput")
    soak.add_argument("--soak-messages", type=_positive, default=300_000, metavar="N")
    soak.add_argument("--soak-every", type=_positive, default=10_000, metavar="N")
    soak.add_argument(
        "--soak-window",
        type=_positive,
        default=2000,
        metavar="N",
        help="most orders published and not yet split",
    )
    ingest.set_defaults(handler=_bench_ingest)

    poll_bench = bench.add_parser("poll", help="one poll cycle over N packed packages")
    poll_bench.add_argument("--packages", type=int, default=10_000)
    poll_bench.add_argument("--processes", type=int, default=2)
    poll_bench.add_argument("--threads", type=int, default=8)
    # the settings' default POLL_BATCH_SIZE: the cycle as production runs it
    poll_bench.add_argument("--batch-size", type=int, default=50)
    poll_bench.add_argument(
        "--stored", type=int, default=0, help="delivered packages beside them, never due"
    )
    poll_bench.set_defaults(handler=_bench_poll)

    portal = bench.add_parser("portal", help="server time of the merchant portal's pages")
    portal.add_argument("--merchant-orders", type=_positive, default=10_000)
    portal.add_argument(
        "--others", type=int, default=20_000, help="merchant orders of other merchants beside"
    )
    portal.add_argument("--requests", type=_positive, default=50, help="timed requests per page")
    portal.set_defaults(handler=_bench_portal)

    office = bench.add_parser(
        "backoffice", help="server time of the Back Office's order search and packages list"
    )
    office.add_argument("--orders", type=_positive, default=100_000, help="orders stored")
    office.add_argument("--requests", type=_positive, default=30, help="timed requests per page")
    office.set_defaults(handler=_bench_backoffice)

    api_bench = bench.add_parser(
        "api", help="the API's reads under wrk vs a FastAPI floor (apt-get install wrk)"
    )
    api_bench.add_argument("--orders", type=_positive, default=1000, help="orders stored")
    api_bench.add_argument("--workers", type=_positive, default=2, help="uvicorn workers, each")
    api_bench.add_argument("--rounds", type=_positive, default=1, help="runs per read; medians")
    api_bench.add_argument("--seconds", type=_positive, default=10, help="wrk -d")
    api_bench.add_argument("--connections", type=_positive, default=16, help="wrk -c")
    api_bench.add_argument("--threads", type=_positive, default=2, help="wrk -t")
    api_bench.add_argument(
        "--api-tree",
        type=Path,
        metavar="DIR",
        help="measure the `oms api` (and migrations) of another checkout, e.g. one at the "
        "issue's starting commit (default: this one)",
    )
    api_bench.set_defaults(handler=_bench_api)

    reservations = bench.add_parser(
        "reservations", help="reading one offer's reservation with N merchant order items"
    )
    reservations.add_argument("--items", type=_positive, default=1_000_000)
    reservations.add_argument("--reads", type=_positive, default=500, help="reads timed per case")
    reservations.set_defaults(handler=_bench_reservations)


def _bench_ingest(args: argparse.Namespace) -> int:
    from adapters.settings import Settings

    threads = args.threads or Settings.from_env().group_threads
    if args.soak:
        from benchmarks.soak import bench_soak

        return bench_soak(
            messages=args.soak_messages,
            every=args.soak_every,
            window=args.soak_window,
            threads=threads,
        )
    from benchmarks.ingest import MIN_SECONDS, ROUNDS, bench_ingest
    from benchmarks.profile import Profile

    profile = None
    if args.profile is not None:
        profile = Profile(args.profile, args.profile_mode, args.profile_format)
    return bench_ingest(
        orders=args.orders,
        processes=args.processes,
        threads=threads,
        profile=profile,
        latency_orders=args.latency_orders,
        rounds=args.rounds or ROUNDS,
        min_seconds=MIN_SECONDS if args.min_seconds is None else args.min_seconds,
    )


def _bench_poll(args: argparse.Namespace) -> int:
    from benchmarks.poll import bench_poll

    return bench_poll(
        packages=args.packages,
        processes=args.processes,
        threads=args.threads,
        batch_size=args.batch_size,
        stored=args.stored,
    )


def _bench_portal(args: argparse.Namespace) -> int:
    from benchmarks.portal import bench_portal

    return bench_portal(
        merchant_orders=args.merchant_orders, others=args.others, requests=args.requests
    )


def _bench_backoffice(args: argparse.Namespace) -> int:
    from benchmarks.backoffice import bench_backoffice

    return bench_backoffice(orders=args.orders, requests=args.requests)


def _bench_api(args: argparse.Namespace) -> int:
    from benchmarks.api_bench import bench_api

    return bench_api(
        orders=args.orders,
        workers=args.workers,
        rounds=args.rounds,
        seconds=args.seconds,
        connections=args.connections,
        threads=args.threads,
        **({"tree": args.api_tree} if args.api_tree else {}),
    )


def _bench_reservations(args: argparse.Namespace) -> int:
    from benchmarks.reservations import bench_reservations

    return bench_reservations(items=args.items, reads=args.reads)
