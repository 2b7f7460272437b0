"""`oms demo` shows the whole seed flow (issue 9, item 6): process import, a merchant's
cancellation before packing, shipped/delivered from one poll cycle, a refund imported after
delivery; per order its merchant items and totals with the identity ok; what Omnitron was told as
counts; dead letters in a table and the JSON logs in a file it names, none on the terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_the_seed_flow_and_keeps_logs_off_the_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "OMNITRON_"))}
    env.update(PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "cli.main", "demo", "--orders", "6"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert not [line for line in out.splitlines() if line.lstrip().startswith("{")]
    assert run.stderr == ""
    log_file = re.search(r"JSON logs: (\S+)", out)
    assert log_file, out
    logged = [json.loads(line) for line in Path(log_file[1]).read_text().splitlines()]
    dead = sorted(e["order_number"] for e in logged if e["event"] == "message.dead_lettered")
    assert dead == ["BAD-AMOUNT", "BAD-DECIMALS"]

    for expected in [
        "1. process import    merchant_oms_process.csv: row 1: MER000005 -> "
        "MainMerchantStateMachine (new merchant)",
        "3. merchant cancels  TY-100042--MER000002--5002 cancel by merchant: applied "
        "(new -> canceled by merchant)",
        "6. refund import     merchant-order-status.csv: row 1: TY-100042--MER000005--5003 "
        "refund: applied (delivered -> refunded)",
        "  TY-100042--MER000002--5001  MerchantDefaultStateMachine  delivered             "
        "delivered",
        "  TY-100042--MER000005--5003  MainMerchantStateMachine     refunded              refunded",
        "  HB-7781--MAIN--9001  MainMerchantStateMachine  shipped  shipped",
    ]:
        assert expected in out.splitlines(), f"{expected!r} not in\n{out}"
    poll = re.search(r"merchant items \(source poll\): deliver applied (\d+), ship applied", out)
    assert poll and int(poll[1]) >= 2, out

    lines = out.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("order    "))
    rows = lines[top + 1 : lines.index("", top)]
    assert len(rows) == 8, rows  # the two examples and the six generated orders
    assert all(row.endswith("  ok") for row in rows), rows
    assert re.search(r"^TY-100042 +Trendyol +canceled by merchant delivered refunded +"
                     r"delivered:2 +110\.90  ok$", out, re.M), out  # fmt: skip
    assert "8 orders stored, 0 with a broken totals identity" in out

    dead_table = lines.index("dead letter (never retried)  reason")
    dead_rows = lines[dead_table + 1 : dead_table + 3]
    assert sorted(line.split()[0] for line in dead_rows) == ["BAD-AMOUNT", "BAD-DECIMALS"]
    told = lines.index("what Omnitron was told:")
    counts = {line.split()[0]: line.split()[1:] for line in lines[told + 2 : told + 5]}
    assert sorted(counts) == ["100", "450", "600"], lines[told:]
    assert counts["100"][1] == counts["600"][1] == "1"  # one item each: the mug, the lamp
    assert all(c[2].startswith("200x") and c[2].count("x") == 1 for c in counts.values())

    # spec 9.5: the reservation table at the end, every figure equal to its recomputation
    table = lines.index("reservations (spec 9.5), per merchant and offer, reserved now:")
    assert lines[table + 1].split()[:3] == ["merchant", "offer", "/"], lines[table:]
    rows = lines[table + 2 : -1]
    assert rows and all(len(row.split()) >= 6 for row in rows), rows
    assert lines[-1] == "0 reservation(s) differ from the sum recomputed from their items"
