"""`oms bench api` (issue 22): without wrk it says how to install it; with it, a short run
prints the three reads with their ratios and statements per request, on a database and vhost
of its own that it removes; wrk's report is parsed as wrk prints it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from benchmarks.wrk import INSTALL, combined, parse
from tests.e2e.isolation import database_exists, oms, scratch_names, vhost_exists

WRK_REPORT = """Running 10s test @ http://127.0.0.1:8000/api/v1/orders/X/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.03ms    3.37ms  48.02ms   81.36%
    Req/Sec     1.36k   139.61     1.72k    70.50%
  Latency Distribution
     50%    5.38ms
     75%    7.12ms
     90%    9.75ms
     99%   18.40ms
  27103 requests in 10.01s, 150.94MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:   2708.44
Transfer/sec:     15.08MB
"""


def test_wrk_report_is_parsed() -> None:
    load = parse(WRK_REPORT)
    assert load.requests_per_second == 2708.44 and load.requests == 27103
    assert load.p50_ms == pytest.approx(5.38) and load.p99_ms == pytest.approx(18.40)
    assert load.non_2xx == 7 and load.socket_errors == 3
    assert parse(WRK_REPORT.replace("18.40ms", "1.02s")).p99_ms == pytest.approx(1020.0)
    assert parse(WRK_REPORT.replace("5.38ms", "912.00us")).p50_ms == pytest.approx(0.912)


def test_loads_run_at_once_combine_as_one() -> None:
    """One wrk per single-worker server: the rates and counts add up, the latencies are the
    worst of them (an upper bound on the whole's percentiles)."""
    one = parse(WRK_REPORT)
    other = parse(WRK_REPORT.replace("2708.44", "1291.56").replace("18.40ms", "31.00ms"))
    both = combined([one, other])
    assert both.requests_per_second == pytest.approx(4000.0)
    assert both.requests == 2 * 27103 and both.non_2xx == 14 and both.socket_errors == 6
    assert both.p99_ms == pytest.approx(31.0) and both.p50_ms == pytest.approx(5.38)


def test_without_wrk_it_says_how_to_install_it(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    run = oms({"PATH": str(bare)}, "bench", "api", "--orders", "10")
    assert run.returncode != 0
    assert INSTALL in run.stderr and "apt-get install wrk" in run.stderr


@pytest.mark.services
@pytest.mark.e2e
@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)
def test_a_short_run_prints_each_read_and_removes_its_scratch(
    postgres_url: str, rabbitmq_url: str
) -> None:
    env = {"OMS_DATABASE_URL": postgres_url, "OMS_BROKER_URL": rabbitmq_url}
    run = oms(env, "bench", "api", "--orders", "30", "--seconds", "1", "--workers", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "30 orders stored" in run.stdout
    rows = {
        m[1]: m
        for line in run.stdout.splitlines()
        if (
            m := re.match(r"(merchant order read|order read|merchant order list) +([0-9.]+) ", line)
        )
    }
    assert set(rows) == {"merchant order read", "order read", "merchant order list"}, run.stdout
    assert re.search(r"merchant order read .* 1 \(\+1 key\)", run.stdout), run.stdout
    assert re.search(r"merchant order list .* 2 \(\+1 key\)", run.stdout), run.stdout
    database, vhost = scratch_names(run.stdout)
    assert not database_exists(postgres_url, database) and not vhost_exists(vhost)
