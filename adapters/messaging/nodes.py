"""A RabbitMQ cluster in OMS_BROKER_URL, and quorum queues (spec 13).

`OMS_BROKER_URL` may list several nodes of one cluster, comma-separated (`;` too, dramatiq's
own separator): every connection — dramatiq's publishers and consumers, the API's publisher,
the dead-letter keeper, `oms queues` — tries them in turn (pika goes through the list, then
pauses `retry_delay` and goes through it again, `connection_attempts` times). Each process
starts at a node of its own (the list rotated at random), so a stack's connections spread over
the cluster and every one fails over to the next node when its node goes away.

With `OMS_QUEUE_TYPE=quorum` every queue the pipeline declares is a quorum queue: the work queue
`q`, its delay queue `q.DQ` and its dead-letter queue `q.XQ` (a queue's type cannot change in
place: docs/scaling.md says how to move a classic deployment). What the quorum type needs:
- dead-lettering by the broker (`basic.nack` without requeue on `q` or `q.DQ`, the delivery
  limit) is at-most-once by default; `x-dead-letter-strategy=at-least-once` keeps the message
  in its queue until `q.XQ` has confirmed it, and RabbitMQ allows that only together with
  `x-overflow=reject-publish`;
- `x-delivery-limit`: a quorum queue counts returns of each message (a consumer that died or
  nacked with requeue); past the limit it is dead-lettered, so a message that kills its worker
  cannot loop forever (OMS_DELIVERY_LIMIT, default 50: a node loss or a worker restart returns
  every unacked message, held delayed ones included, and must not dead-letter them);
- `q.XQ` keeps dramatiq's `x-message-ttl` (quorum queues have message TTL since 3.10);
  no `x-max-priority` (quorum queues have no priorities; the pipeline uses none)."""

from __future__ import annotations

import os
import random
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pika

QUORUM = "quorum"
DEFAULT_DELIVERY_LIMIT = 50


def node_urls(url: str) -> list[str]:
    """One URL a node, in the order given."""
    return [part.strip() for part in re.split(r"[,;]", url) if part.strip()] or [url]


def each_node(url: str, **query: str) -> str:
    """The same node list with `query` set on every node's URL."""
    return ",".join(_with_query(node, query) for node in node_urls(url))


def each_node_default(url: str, **query: str) -> str:
    """The same node list with `query` set where a node's URL does not set it itself."""
    return ",".join(_with_query(node, query, keep=True) for node in node_urls(url))


def _with_query(url: str, query: dict[str, str], keep: bool = False) -> str:
    parts = urlsplit(url)
    current = dict(parse_qsl(parts.query))
    for key, value in query.items():
        if not keep or key not in current:
            current[key] = value
    return urlunsplit(parts._replace(query=urlencode(current)))


def rotated(url: str) -> list[str]:
    """The nodes, starting at a random one (per process: connections spread over the cluster)."""
    nodes = node_urls(url)
    start = random.randrange(len(nodes))
    return nodes[start:] + nodes[:start]


def parameters(url: str) -> list[pika.URLParameters]:
    return [pika.URLParameters(node) for node in rotated(url)]


def connect(url: str) -> pika.BlockingConnection:
    """A connection to the first node of the list that answers."""
    return pika.BlockingConnection(parameters(url))


def first_node(url: str) -> str:
    return node_urls(url)[0]


def queue_type() -> str:
    """OMS_QUEUE_TYPE (classic or quorum; Settings checks the value at start)."""
    return os.environ.get("OMS_QUEUE_TYPE", "classic").strip().lower() or "classic"


def delivery_limit() -> int:
    raw = os.environ.get("OMS_DELIVERY_LIMIT", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_DELIVERY_LIMIT


def work_queue_arguments(dead_letter_queue: str, kind: str, limit: int) -> dict[str, Any]:
    """Arguments of `q` and `q.DQ` (dramatiq's, and the quorum ones when asked)."""
    arguments: dict[str, Any] = {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": dead_letter_queue,
    }
    if kind == QUORUM:
        arguments.update(
            {
                "x-queue-type": QUORUM,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                "x-delivery-limit": limit,
            }
        )
    return arguments


def dead_letter_queue_arguments(ttl_ms: int, kind: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {"x-message-ttl": ttl_ms}
    if kind == QUORUM:
        arguments["x-queue-type"] = QUORUM
    return arguments
