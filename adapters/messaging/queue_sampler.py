"""One sample of every pipeline queue's depth into queue_depth_samples (the dead-letter keeper
calls it every OMS_QUEUE_SAMPLE_SECONDS): the management API's figures when it answers (one HTTP
GET), else passive declares (ready counts only)."""

from __future__ import annotations

from sqlalchemy import Engine

from adapters.messaging.queue_stats import from_management, from_passive_declares, management_url
from adapters.persistence.queue_samples import record_samples


def sample_queue_depths(broker_url: str, engine: Engine, management_override: str | None) -> int:
    rows = from_management(broker_url, management_url(broker_url, management_override))
    if rows is None:
        rows = from_passive_declares(broker_url)
    return record_samples(engine, rows)
