"""`oms publish orders FILE|-`: inbound orders onto `oms.ingest`, confirmed by the broker."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import dramatiq

from adapters.messaging.publisher import INGEST, publish

PROGRESS_EVERY = 500


def publish_orders(
    broker: dramatiq.Broker, bodies: Iterable[Any], *, progress: bool = False
) -> list[str]:
    """Publish each body as one `ingest_order` message; returns the message ids in order."""
    queue_name, actor_name = INGEST
    ids = []
    for count, body in enumerate(bodies, start=1):
        ids.append(publish(broker, queue_name, actor_name, body))
        if progress and count % PROGRESS_EVERY == 0:
            print(f"\rpublished {count}", end="", file=sys.stderr, flush=True)
    if progress and len(ids) >= PROGRESS_EVERY:
        print(file=sys.stderr)
    return ids
