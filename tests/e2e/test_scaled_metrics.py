"""Metrics that survive scaling (issue 11, item 4) and a quiet stop (item 8): two groups of one
stage (as `honcho start -c ingest=2` runs them) each serve their own port, idle ones included;
every exposition passes `promtool check metrics`; SIGTERM stops them with JSON lines only, no
pika errors, and their metrics directories are removed."""

from __future__ import annotations

import glob
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid

import dramatiq
import pytest
import requests

from adapters.messaging.publisher import publish
from tests.e2e.pipeline import ROOT, Pipeline, wait_for

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    ci_installs = "prometheus" in (ROOT / ".ci/run").read_text()
    if os.environ.get("OMS_REQUIRE_SERVICES") == "1" and ci_installs:
        pytest.fail("promtool is missing although .ci/run installs it")
    pytest.skip("PROMTOOL MISSING: expositions not checked (apt-get install prometheus)")


def check_metrics(text: str) -> None:
    done = subprocess.run(
        [promtool(), "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def free_port_pair() -> int:
    """P such that P and P+1 are both free, below the kernel's ephemeral range: a port the
    kernel hands out (bind to 0) has neighbours that outgoing connections may hold at any
    moment, so the second group would find P+1 taken and serve P+2 (a CI failure seen)."""
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randrange(max(1024, low - 8000), low - 2)
        sockets = [socket.socket() for _ in range(2)]
        try:
            for offset, s in enumerate(sockets):
                s.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise AssertionError("no two free neighbouring ports below the ephemeral range")


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def scrape(port: int) -> str:
    try:
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except requests.RequestException:
        return ""


def test_two_groups_of_a_stage_serve_their_own_ports_and_stop_quietly(
    pipeline: Pipeline, broker: dramatiq.Broker
) -> None:
    promtool()
    port = free_port_pair()
    argv = [*pipeline.oms, "worker", "ingest", "--threads", "2", "--metrics-port", str(port)]
    pipeline._spawn("ingest-a", argv)
    wait_for(lambda: "oms_worker_processes" in scrape(port), 60, "the first group's metrics")
    pipeline._spawn("ingest-b", argv)  # the same command line: honcho -c ingest=2
    wait_for(lambda: "oms_worker_processes" in scrape(port + 1), 60, "the second group's")
    for served in (port, port + 1):
        text = scrape(served)  # idle: no message yet, the series read 0
        assert 'dramatiq_messages_total{actor_name="ingest_order",queue_name="oms.ingest"} 0.0' in (
            text
        )
        assert "oms_worker_processes 1.0" in text and "_milliseconds" not in text
        check_metrics(text)
    # an invalid order: handled (counted, timed, dead-lettered) without storing anything that
    # other tests' orders could collide with
    publish(broker, "oms.ingest", "ingest_order", {"number": f"SCALED-{uuid.uuid4().hex[:8]}"})

    def handled() -> bool:
        totals = [scrape(p) for p in (port, port + 1)]
        return any(
            'dramatiq_message_duration_seconds_count{actor_name="ingest_order"' in t
            and 'queue_name="oms.ingest"} 1.0' in t
            for t in totals
        )

    wait_for(handled, 60, "the message timed in seconds by one group")
    for served in (port, port + 1):
        check_metrics(scrape(served))
    check_metrics(pipeline.run_oms("metrics").stdout)

    pids = {name: pipeline.processes[name].pid for name in ("ingest-a", "ingest-b")}
    for name in pids:
        process = pipeline.processes.pop(name)
        os.kill(process.pid, signal.SIGTERM)  # what honcho sends: the main process only
        assert process.wait(timeout=60) == 0
    logs = b"".join(path.read_bytes() for path in pipeline.log_dir.glob("ingest-*.log"))
    lines = [line for line in logs.decode().splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("metrics of ingest")]
    for line in not_json:
        assert isinstance(json.loads(line), dict), line  # raises on a plain-text line
    assert not [line for line in lines if '"pika' in line], "pika lines at a normal stop"
    assert any("booting up" in line for line in lines), "dramatiq's start-up line, as JSON"
    for pid in pids.values():
        left = glob.glob(os.path.join(tempfile.gettempdir(), f"oms-metrics-ingest-{pid}"))
        assert left == [], left
