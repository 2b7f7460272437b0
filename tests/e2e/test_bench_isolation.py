"""`oms bench` never touches the live pipeline (issue 8, item 12): it makes its own database and
vhost on the configured servers and removes them at the end."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from sqlalchemy import Engine

from adapters.messaging.broker import build_broker
from adapters.messaging.publisher import publish
from tests import services
from tests.e2e.isolation import (
    database_exists,
    oms,
    orders_like,
    queue_exists,
    scratch_names,
    vhost_exists,
)
from tests.e2e.pipeline import ROOT

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def test_bench_poll_leaves_the_live_poll_queue_alone(
    postgres_url: str, rabbitmq_url: str, db: Engine
) -> None:
    services.purge_queues(rabbitmq_url)
    live = build_broker(rabbitmq_url, [])
    live.declare_queue("oms.poll", ensure=True)
    publish(live, "oms.poll", "start_poll_cycle", {"cycle": 1234})  # the live pipeline's
    live.close()
    env = {"OMS_DATABASE_URL": postgres_url, "OMS_BROKER_URL": rabbitmq_url}
    run = oms(env, "bench", "poll", "--packages", "20", "--processes", "1", "--threads", "2")
    assert run.returncode == 0, run.stderr
    assert services.queue_depth(rabbitmq_url, "oms.poll") == 1, "the bench took a live message"
    assert orders_like(db, "BPOLL-%") == 0
    database, vhost = scratch_names(run.stdout)
    assert not database_exists(postgres_url, database) and not vhost_exists(vhost)


def test_bench_ingest_writes_nothing_into_the_configured_database_or_vhost(
    postgres_url: str, rabbitmq_url: str, db: Engine
) -> None:
    env = {"OMS_DATABASE_URL": postgres_url, "OMS_BROKER_URL": rabbitmq_url}
    run = oms(
        env, "bench", "ingest", "--orders", "20", "--latency-orders", "10", "--processes", "1",
        "--threads", "2", "--rounds", "2", "--min-seconds", "0",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    rounds = [float(m[1]) for line in lines if (m := re.match(r"round \d: ratio ([0-9.]+)$", line))]
    assert len(rounds) == 2, lines
    summary = re.match(r"ratio ([0-9.]+) \(median of 2 rounds: ([0-9.]+) ([0-9.]+);", lines[-1])
    assert summary is not None, lines[-1]
    assert [float(summary[2]), float(summary[3])] == rounds
    assert float(summary[1]) == pytest.approx(sum(rounds) / 2, abs=0.011)  # of two: the mean
    paced = [line for line in lines if re.match(r" +at \d+/s: ", line)]
    assert len(paced) == 1 and ": 10 in " in paced[0], lines  # the orders it was asked for
    assert orders_like(db, "BENCH-%") == 0, "benchmark orders in the configured database"
    assert not queue_exists(rabbitmq_url, "bench.noop.first")
    database, vhost = scratch_names(run.stdout)
    assert not database_exists(postgres_url, database) and not vhost_exists(vhost)


def test_bench_ingest_soak_prints_rss_per_stage(
    postgres_url: str, rabbitmq_url: str, db: Engine
) -> None:
    env = {"OMS_DATABASE_URL": postgres_url, "OMS_BROKER_URL": rabbitmq_url}
    # three rows, and a window smaller than the stream so the publisher waits for the split; the
    # "1,000" and "2k" of longer runs are tests/unit/test_bench_profile.py's
    run = oms(
        env, "bench", "ingest", "--soak", "--soak-messages", "300", "--soak-every", "100",
        "--soak-window", "100", "--threads", "2",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    header = lines.index("messages processed | ingest RSS MiB | split RSS MiB")
    rows = [[cell.strip() for cell in line.split("|")] for line in lines[header + 1 : header + 4]]
    assert [row[0] for row in rows] == ["100", "200", "300"]
    for row in rows:
        assert len(row) == 3 and all(float(rss) > 0 for rss in row[1:]), row
    growth = re.fullmatch(
        r"RSS growth 100→300: ingest ([+-]\d+\.\d) %, split ([+-]\d+\.\d) % \(target ≤ 10 %\)",
        lines[header + 4],
    )
    assert growth is not None, lines[header + 4]
    first, last = (float(rows[0][1]), float(rows[0][2])), (float(rows[2][1]), float(rows[2][2]))
    assert float(growth.group(1)) == pytest.approx(
        (last[0] / first[0] - 1) * 100, abs=0.3
    )  # the table rounds to 0.1 MiB
    assert float(growth.group(2)) == pytest.approx(
        (last[1] / first[1] - 1) * 100, abs=0.3
    )  # the table rounds to 0.1 MiB
    assert orders_like(db, "SOAK-%") == 0, "soak orders in the configured database"
    database, vhost = scratch_names(run.stdout)
    assert not database_exists(postgres_url, database) and not vhost_exists(vhost)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_bench_removes_its_database_and_vhost(
    postgres_url: str, rabbitmq_url: str, signum: int
) -> None:
    env = {
        **os.environ,
        "OMS_DATABASE_URL": postgres_url,
        "OMS_BROKER_URL": rabbitmq_url,
        "PYTHONUNBUFFERED": "1",
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "bench", "poll", "--packages", "5000"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stdout is not None
    first = run.stdout.readline()
    database, vhost = scratch_names(first)
    assert database_exists(postgres_url, database) and vhost_exists(vhost)
    run.send_signal(signum)
    assert run.wait(timeout=120) == 130, run.stderr.read() if run.stderr else ""
    assert not database_exists(postgres_url, database) and not vhost_exists(vhost)
