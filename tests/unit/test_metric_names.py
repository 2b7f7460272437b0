"""Every counter and histogram a worker writes has its help text: with metrics on, a missing
one would raise inside the actor and fail every message of that stage."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.metrics import HELP

WORKERS = Path(__file__).resolve().parents[2] / "workers"


def test_every_metric_the_workers_write_is_declared() -> None:
    used = {
        name
        for path in WORKERS.glob("*.py")
        for name in re.findall(r"metrics\.(?:count|observe)\(\s*\"(\w+)\"", path.read_text())
    }
    assert "oms_merchant_events_total" in used
    assert used - set(HELP) == set()
