"""The pipeline's own Prometheus counters and histograms, beside dramatiq's. They exist only
when the worker runs the metrics middleware (`oms worker --metrics-port`, adapters/messaging/
prometheus.py): it sets PROMETHEUS_MULTIPROC_DIR after process boot, and metrics must be created
after that so every worker process writes to the group's directory its exposition server reads."""

from __future__ import annotations

import os
import threading
from typing import Any

_lock = threading.Lock()
_metrics: dict[str, Any] = {}

HELP = {
    "oms_orders_ingested_total": "Orders stored by the ingest stage.",
    "oms_orders_duplicate_total": "Order messages already stored (redeliveries, re-publishes).",
    "oms_orders_rejected_total": "Order messages dead-lettered as invalid.",
    "oms_merchant_orders_total": "Merchant orders created by the split stage.",
    "oms_package_commands_total": "Package commands by slug and outcome.",
    "oms_merchant_events_total": "Merchant event outcomes per item (applied, skipped, rejected).",
    "oms_reports_sent_total": "Status reports Omnitron accepted.",
    "oms_reports_failed_total": "Status report attempts that failed (retried or dead-lettered).",
    "oms_poll_packages_total": "Packages polled, by outcome (moved, unchanged, unknown_order).",
    "oms_poll_malformed_answers_total": "Orders whose Omnitron poll answer could not be read.",
    "oms_poll_batch_seconds": "Duration of one poll message (its batches' reads and moves).",
    "oms_group_commit_groups_total": "Transactions group commit ran, by stage.",
    "oms_group_commit_messages_total": "Messages written by group commit, by stage "
    "(divided by the groups: the mean group size).",
    "oms_group_commit_fallbacks_total": "Groups whose write or commit failed and whose "
    "messages ran again one transaction each, by stage.",
}


def _enabled() -> bool:
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ


def _metric(kind: str, name: str, labels: tuple[str, ...]) -> Any:
    with _lock:
        if name not in _metrics:
            import prometheus_client as prom  # after boot: see the module docstring

            registry = prom.CollectorRegistry()  # the multiprocess files are what counts
            factory = prom.Histogram if kind == "histogram" else prom.Counter
            _metrics[name] = factory(name, HELP[name], labels, registry=registry)
        return _metrics[name]


def count(name: str, amount: float = 1, **labels: str) -> None:
    if _enabled() and amount:
        metric = _metric("counter", name, tuple(sorted(labels)))
        (metric.labels(**labels) if labels else metric).inc(amount)


def observe(name: str, value: float, **labels: str) -> None:
    if _enabled():
        metric = _metric("histogram", name, tuple(sorted(labels)))
        (metric.labels(**labels) if labels else metric).observe(value)
