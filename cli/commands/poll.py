"""`oms scheduler [--once]` and `oms poll on|off|status|run`: the status poll (spec section 7)."""

from __future__ import annotations

import argparse

from cli.commands import Commands


def register(commands: Commands) -> None:
    sched = commands.add_parser("scheduler", help="tick the status poll every interval")
    sched.add_argument("--once", action="store_true", help="one tick, then exit")
    sched.set_defaults(handler=_scheduler)

    poll = commands.add_parser("poll", help="the status poll's switch, or a cycle now")
    poll.add_argument("action", choices=["on", "off", "status", "run"])
    poll.set_defaults(handler=_poll)


def _scheduler(args: argparse.Namespace) -> int:
    from cli.poll import scheduler

    return scheduler(once=args.once)


def _poll(args: argparse.Namespace) -> int:
    from cli.poll import poll_flag, poll_now

    return poll_now() if args.action == "run" else poll_flag(args.action)
