"""All stages' actors, for processes that run them all (the embedded demo)."""

from workers.ingest import ingest_order
from workers.merchant import trigger_merchant_event
from workers.packaging import run_package_command
from workers.poll import poll_packages, start_poll_cycle
from workers.report import send_status_report
from workers.split import split_order

__all__ = [
    "ingest_order",
    "poll_packages",
    "run_package_command",
    "send_status_report",
    "split_order",
    "start_poll_cycle",
    "trigger_merchant_event",
]
