"""`oms dlq keep|list|show|replay|resolve`: dead letters."""

from __future__ import annotations

import argparse

from cli.commands import Commands


def register(commands: Commands) -> None:
    dlq = commands.add_parser("dlq", help="dead letters: keep, list, show, replay, resolve")
    dlq.add_argument("action", choices=["keep", "list", "show", "replay", "resolve"])
    dlq.add_argument("queue", nargs="?", help="e.g. oms.ingest (list: every queue without it)")
    dlq.add_argument("--id", type=int, help="one dead letter (the id oms dlq list shows)")
    dlq.add_argument("--all", action="store_true", help="every dead letter not replayed yet")
    dlq.add_argument("--dry-run", action="store_true", help="say what would be replayed")
    dlq.add_argument("--json", action="store_true", help="list as JSON")
    dlq.add_argument("--order", metavar="NUMBER", help="list: only those naming this order")
    dlq.add_argument("--note", help="resolve: why it will never be valid (kept for audit)")
    dlq.add_argument("--loop", action="store_true", help="keep: keep moving (Procfile)")
    dlq.set_defaults(handler=_dlq)


def _dlq(args: argparse.Namespace) -> int:
    from cli import dlq

    if args.action == "keep":
        return dlq.keep(loop=args.loop)
    if args.action == "list":
        return dlq.list_letters(args.queue, as_json=args.json, order=args.order)
    if args.order is not None:
        raise SystemExit("--order goes with oms dlq list")
    if args.queue is None:
        raise SystemExit(f"oms dlq {args.action} needs a QUEUE")
    if args.action == "resolve":
        if args.id is None or args.note is None:
            raise SystemExit("oms dlq resolve needs --id ID and --note TEXT")
        return dlq.resolve_letter(args.queue, record_id=args.id, note=args.note)
    if args.action == "show":
        if args.id is None:
            raise SystemExit("oms dlq show needs --id ID")
        return dlq.show(args.queue, args.id)
    return dlq.replay(args.queue, record_id=args.id, every=args.all, dry_run=args.dry_run)
