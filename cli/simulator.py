"""`oms omnitron-sim register FILE|- [--url URL]`: the simulator knows only the orders it was
given, so orders published after it started must be registered, or every report and poll about
them is refused (404/400) and dead-lettered. Registering an order twice is harmless."""

from __future__ import annotations

import sys

from adapters.omnitron.client import OmnitronClient
from cli.orders_file import read_bodies
from domain.omnitron import OmnitronRejected

PROGRESS_EVERY = 200
SHOWN_REFUSALS = 5


def register_orders(source: str, *, url: str, username: str, password: str) -> int:
    client = OmnitronClient(url, username, password)
    client.login()  # a refused login stops here, not once per order
    progress = sys.stderr.isatty()
    created = known = 0
    refused: list[str] = []
    for index, body in enumerate(read_bodies(source), start=1):
        number = body.get("number") if isinstance(body, dict) else None
        try:
            if client.register_order(body):
                created += 1
            else:
                known += 1
        except OmnitronRejected as error:
            refused.append(f"order {index} ({number or 'no number'}): {error}")
        if progress and index % PROGRESS_EVERY == 0:
            print(f"\rregistered {index}", end="", file=sys.stderr, flush=True)
    if progress and created + known + len(refused) >= PROGRESS_EVERY:
        print(file=sys.stderr)
    print(
        f"registered {created} order{'' if created == 1 else 's'} with the simulator at {url}"
        f" ({known} known before, {len(refused)} refused)"
    )
    for line in refused[:SHOWN_REFUSALS]:
        print(f"  refused {line}")
    if len(refused) > SHOWN_REFUSALS:
        print(f"  … and {len(refused) - SHOWN_REFUSALS} more")
    if refused:
        print(f"oms: {len(refused)} orders refused by the simulator", file=sys.stderr)
    return 1 if refused else 0
