"""`oms bench ingest|poll`: the benchmarks (docs/benchmarks.md)."""

from __future__ import annotations

import argparse

from cli.commands import Commands


def register(commands: Commands) -> None:
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
    # the settings' default POLL_BATCH_SIZE: the cycle as production runs it
    poll_bench.add_argument("--batch-size", type=int, default=50)
    poll_bench.add_argument(
        "--stored", type=int, default=0, help="delivered packages beside them, never due"
    )
    poll_bench.set_defaults(handler=_bench_poll)


def _bench_ingest(args: argparse.Namespace) -> int:
    from cli.bench import bench_ingest

    return bench_ingest(orders=args.orders, processes=args.processes, threads=args.threads)


def _bench_poll(args: argparse.Namespace) -> int:
    from cli.bench_poll import bench_poll

    return bench_poll(
        packages=args.packages,
        processes=args.processes,
        threads=args.threads,
        batch_size=args.batch_size,
        stored=args.stored,
    )
