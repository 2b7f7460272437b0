"""Queue figures for `oms queues`: from the RabbitMQ management API when it answers, else from
passive declares (ready and consumers only: AMQP tells nothing of unacked messages or rates)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pika
import requests

from adapters.messaging.dead_letter_keeper import PIPELINE_QUEUES
from adapters.messaging.nodes import connect, first_node


def management_url(amqp_url: str, override: str | None) -> str:
    """The management API next to the broker: HTTPS on 15671 when the broker speaks amqps."""
    if override:
        return override.rstrip("/")
    amqp_url = first_node(amqp_url)
    host = urlsplit(amqp_url).hostname or "127.0.0.1"
    if urlsplit(amqp_url).scheme == "amqps":
        return f"https://{host}:15671"
    return f"http://{host}:15672"


def plain_http_refused(amqp_url: str, base: str) -> str | None:
    """Why the broker's credentials must not go to `base`: an amqps broker's password is never
    sent as basic auth over plain HTTP. None when sending them is fine."""
    if urlsplit(first_node(amqp_url)).scheme == "amqps" and urlsplit(base).scheme != "https":
        return (
            "the broker URL is amqps and the management URL is not https, so its credentials "
            "are not sent there; set OMS_RABBITMQ_MANAGEMENT_URL to the https address"
        )
    return None


def _vhost(amqp_url: str) -> str:
    path = urlsplit(first_node(amqp_url)).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def from_management(amqp_url: str, base: str) -> list[dict[str, Any]] | None:
    if plain_http_refused(amqp_url, base) is not None:
        return None
    parts = urlsplit(first_node(amqp_url))
    auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
    try:
        answer = requests.get(
            f"{base}/api/queues/{quote(_vhost(amqp_url), safe='')}", auth=auth, timeout=3
        )
    except requests.RequestException:
        return None
    if answer.status_code != 200:
        return None
    by_name = {q["name"]: q for q in answer.json()}
    rows = []
    for queue in PIPELINE_QUEUES:
        main, delay, dead = (by_name.get(n, {}) for n in (queue, f"{queue}.DQ", f"{queue}.XQ"))
        stats = main.get("message_stats", {})
        rows.append(
            {
                "queue": queue,
                "declared": queue in by_name,
                "ready": main.get("messages_ready", 0),
                "unacked": main.get("messages_unacknowledged", 0),
                "consumers": main.get("consumers", 0),
                "publish_rate": round(stats.get("publish_details", {}).get("rate", 0.0), 1),
                "deliver_rate": round(stats.get("deliver_get_details", {}).get("rate", 0.0), 1),
                "retry_backlog": delay.get("messages", 0),
                "dead_letter_queue": dead.get("messages", 0),
            }
        )
    return rows


def from_passive_declares(amqp_url: str) -> list[dict[str, Any]]:
    connection = connect(amqp_url)
    try:

        def depth(name: str) -> tuple[int, int] | None:
            channel = connection.channel()
            try:
                method = channel.queue_declare(name, passive=True).method
                channel.close()
                return int(method.message_count), int(method.consumer_count)
            except pika.exceptions.ChannelClosedByBroker:
                return None  # not declared (yet)

        rows = []
        for queue in PIPELINE_QUEUES:
            main = depth(queue)
            ready, consumers = main or (0, 0)
            delay_ready, _ = depth(f"{queue}.DQ") or (0, 0)
            dead, _ = depth(f"{queue}.XQ") or (0, 0)
            rows.append(
                {
                    "queue": queue,
                    "declared": main is not None,
                    "ready": ready,
                    "unacked": None,
                    "consumers": consumers,
                    "publish_rate": None,
                    "deliver_rate": None,
                    # held delayed messages are unacked on the DQ and invisible to AMQP
                    "retry_backlog": delay_ready,
                    "dead_letter_queue": dead,
                }
            )
        return rows
    finally:
        connection.close()
