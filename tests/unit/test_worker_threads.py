"""`oms worker STAGE`: ingest and split (they commit in groups) run OMS_GROUP_THREADS threads
per process, the other stages OMS_WORKER_THREADS; --threads overrides both."""

from __future__ import annotations

from typing import Any

import pytest

import cli.worker
from cli.main import build_parser


@pytest.mark.parametrize(
    ("argv", "env", "threads"),
    [
        (["ingest"], {}, 32),
        (["split"], {}, 32),
        (["packaging"], {}, 8),
        (["all"], {}, 8),
        (["split"], {"OMS_GROUP_THREADS": "48", "OMS_WORKER_THREADS": "3"}, 48),
        (["report"], {"OMS_GROUP_THREADS": "48", "OMS_WORKER_THREADS": "3"}, 3),
        (["ingest", "--threads", "5"], {"OMS_GROUP_THREADS": "48"}, 5),
    ],
)
def test_threads_per_stage(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], env: dict[str, str], threads: int
) -> None:
    for name in ("OMS_GROUP_THREADS", "OMS_WORKER_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    started: dict[str, Any] = {}
    monkeypatch.setattr(cli.worker, "run_worker", lambda stage, **kw: started.update(kw) or 0)
    args = build_parser().parse_args(["worker", *argv])
    assert args.handler(args) == 0
    assert started["threads"] == threads
