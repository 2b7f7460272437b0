"""`oms bench ingest --profile`: py-spy records a process tree (ptrace works here), and the top
functions are read back from both of its formats. The soak's table arithmetic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import profile as profiling
from benchmarks.soak import Table, children, rss_mib, short

RAW = (
    'process 7:"python -m dramatiq";Thread._bootstrap (threading.py:988);'
    "run (dramatiq/worker.py:522);execute (sqlalchemy/engine/base.py:1450) 30\n"
    'process 7:"python -m dramatiq";Thread._bootstrap (threading.py:988);'
    "run (dramatiq/worker.py:522);publish (pika/channel.py:10) 10\n"
)


def test_top_reads_the_raw_format(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text(RAW)
    lines = profiling.top(path, "raw")
    assert lines[0].startswith("40 samples")
    assert "   75.0%  sqlalchemy" in lines
    assert "   25.0%  pika" in lines
    assert "  100.0%  run (dramatiq/worker.py:522)" in lines
    assert not any("threading.py" in line for line in lines), "bootstrap frames left in"


def test_top_reads_the_speedscope_format(tmp_path: Path) -> None:
    frames = [
        {"name": "run", "file": "/x/site-packages/dramatiq/worker.py", "line": 522},
        {"name": "execute", "file": "/x/site-packages/sqlalchemy/engine/base.py", "line": 1450},
        {"name": "loads", "file": "/usr/lib/python3.11/json/__init__.py", "line": 1},
    ]
    profiles = [
        {"type": "sampled", "samples": [[0, 1], [0, 2], [0, 1]], "weights": [1, 1, 2]},
        {"type": "sampled", "samples": [[0, 1]], "weights": [4]},
    ]
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"shared": {"frames": frames}, "profiles": profiles}))
    lines = profiling.top(path, "speedscope")
    assert lines[0].startswith("8 samples")
    assert "   87.5%  execute (sqlalchemy/engine/base.py:1450)" in lines
    assert "   12.5%  __init__" in lines  # json/__init__.py outside site-packages: its file name


BUSY = """
import os, time
def spin_for_the_profiler():
    end = time.time() + 20
    while time.time() < end:
        sum(range(1000))
if os.fork() == 0:
    spin_for_the_profiler()
    os._exit(0)
os.wait()
"""


def test_py_spy_records_a_forked_child(tmp_path: Path) -> None:
    try:
        profiling.py_spy()
    except RuntimeError as missing:
        pytest.skip(str(missing))
    if profiling.ptrace_note():
        pytest.skip(profiling.ptrace_note() or "")
    parent = subprocess.Popen([sys.executable, "-c", BUSY], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not children(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        recording = profiling.start(parent.pid, profiling.Profile(tmp_path, "gil"), "busy")
        time.sleep(2)
        path = profiling.stop(recording)
    finally:
        os.killpg(parent.pid, 9)
        parent.wait()
    assert path == tmp_path / "busy-gil.txt"
    assert any("spin_for_the_profiler" in line for line in profiling.top(path, "raw"))


def test_the_soak_table_marks_rows_and_growth() -> None:
    table = Table(every=500, total=1200)
    assert table.marks() == [500, 1000, 1200]
    me = os.getpid()
    assert rss_mib(me) > 0
    assert table.take("ingest", 1000, me) == []  # a row is printed once both stages have it
    rows = table.take("split", 600, me)
    assert len(rows) == 1 and rows[0].split("|")[0].strip() == "500"
    table.take("split", 1200, me)
    table.take("ingest", 1200, me)
    assert table.line(1000).split("|")[0].strip() == "1,000"
    table.rows[1200] = {"ingest": table.rows[500]["ingest"] * 1.05, "split": 0.0}
    table.rows[500]["split"] = 10.0
    assert table.growth() == ("RSS growth 500→1200: ingest +5.0 %, split -100.0 % (target ≤ 10 %)")
    assert short(300_000) == "300k" and short(2000) == "2k" and short(2500) == "2500"
