"""Every counter and histogram a worker writes has its help text: with metrics on, a missing
one would raise inside the actor and fail every message of that stage."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.metrics import HELP

ROOT = Path(__file__).resolve().parents[2]


def test_every_metric_the_workers_write_is_declared() -> None:
    used = {
        name
        for folder in ("workers", "adapters")
        for path in (ROOT / folder).rglob("*.py")
        for name in re.findall(r"metrics\.(?:count|observe)\(\s*\"(\w+)\"", path.read_text())
    }
    assert {"oms_merchant_events_total", "oms_group_commit_fallbacks_total"} <= used
    assert used - set(HELP) == set()
