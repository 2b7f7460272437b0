"""The queue snapshot of `oms queues --json` and `GET /api/v1/queues/`: per pipeline queue,
ready, unacked, consumers, rates, retry backlog, dead-letter queue and recorded dead letters."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine

from adapters.messaging.publisher import BrokerUnavailable, fail_fast
from adapters.messaging.queue_stats import (
    from_management,
    from_passive_declares,
    management_url,
    plain_http_refused,
)
from adapters.persistence.dead_letters import open_dead_letters
from adapters.settings import redact_url


def recorded_dead_letters(engine: Engine) -> dict[str, int]:
    """Dead letters neither replayed nor resolved, per queue."""
    return open_dead_letters(engine)


def queue_snapshot(
    broker_url: str, engine: Engine, management_override: str | None = None
) -> dict[str, Any]:
    base = management_url(broker_url, management_override)
    rows = from_management(broker_url, base)
    source = f"management API at {base}"
    if rows is None:
        rows = from_passive_declares(broker_url)
        why = plain_http_refused(broker_url, base) or "management API not reachable"
        source = f"passive declares ({why}: no unacked counts or rates)"
    recorded = recorded_dead_letters(engine)
    for row in rows:
        row["dead_letters_recorded"] = recorded.get(row["queue"], 0)
    return {"source": source, "broker": redact_url(broker_url), "queues": rows}


def live_queue_snapshot(broker_url: str, engine: Engine) -> dict[str, Any]:
    """`queue_snapshot` for a request (the API's GET /queues/, the Back Office's queues page):
    the broker asked with a 2-s limit, OMS_RABBITMQ_MANAGEMENT_URL honoured, and a broker that
    does not answer raised as BrokerUnavailable (their 503), whatever library raised it."""
    try:
        return queue_snapshot(
            fail_fast(broker_url, 2.0), engine, os.environ.get("OMS_RABBITMQ_MANAGEMENT_URL")
        )
    except (OSError, ConnectionError) as error:
        raise BrokerUnavailable(str(error)) from None
    except Exception as error:  # pika's connection errors share no base with OSError
        if type(error).__module__.startswith("pika"):
            raise BrokerUnavailable(str(error)) from None
        raise
