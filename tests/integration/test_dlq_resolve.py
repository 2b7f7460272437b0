"""Dead letters that end (issue 11, item 3): `oms dlq list` over every queue, an unknown queue
refused, `oms dlq resolve` (kept for audit, out of the gauge and of `oms queues`), a warning
before replaying a message that failed validation; and the gauges read 0 rather than vanish."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from adapters.messaging.publisher import message_for
from adapters.persistence import tables as t
from adapters.persistence.dead_letters import dead_letter, record_dead_letter
from adapters.persistence.engine import make_engine
from cli.main import main
from cli.metrics import DatabaseCollector

pytestmark = pytest.mark.services


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def env(postgres_url: str, rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("OMS_BROKER_URL", rabbitmq_url)


def letter(db: Engine, queue: str, reason: str) -> dict[str, Any]:
    actor = {"oms.ingest": "ingest_order", "oms.report": "send_status_report"}[queue]
    message = message_for(queue, actor, {"number": f"END-{uuid.uuid4().hex[:8]}"}).asdict()
    record_dead_letter(db, message, reason)
    with db.connect() as c:
        record_id = c.execute(
            select(t.dead_letters.c.id).where(t.dead_letters.c.message_id == message["message_id"])
        ).scalar_one()
    found = dead_letter(db, queue, record_id)
    assert found is not None
    return found


def gauge(db: Engine, name: str) -> dict[str, float]:
    families = {f.name: f for f in DatabaseCollector(db).collect()}
    return {
        next(iter(s.labels.values()), ""): s.value for s in families[name].samples
    }  # label value -> reading


def test_list_without_a_queue_lists_every_queue(
    db: Engine, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest = letter(db, "oms.ingest", "invalid message: number: too long")
    report = letter(db, "oms.report", "failed after 25 retries: OmnitronUnavailable: 503")
    assert main(["dlq", "list"]) == 0
    out = capsys.readouterr().out
    cells = [line.split() for line in out.splitlines()]
    rows = {c[0]: c[1] for c in cells[1:-1]}  # between the header and the count
    assert rows[str(ingest["id"])] == "oms.ingest" and rows[str(report["id"])] == "oms.report"
    assert "dead letters in all queues" in out.splitlines()[-1]
    assert main(["dlq", "list", "--json"]) == 0
    ids = {d["id"] for d in json.loads(capsys.readouterr().out)}
    assert {ingest["id"], report["id"]} <= ids


@pytest.mark.parametrize("action", [["list"], ["show", "--id", "1"], ["replay", "--all"]])
def test_an_unknown_queue_is_refused_with_the_known_ones(
    env: None, capsys: pytest.CaptureFixture[str], action: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["dlq", action[0], "oms.ingset", *action[1:]])
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert "unknown queue 'oms.ingset'" in captured.err and "oms.ingest" in captured.err
    assert "0 dead letters" not in captured.out


def test_resolve_keeps_the_letter_for_audit_and_takes_it_out_of_the_gauge(
    db: Engine, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    doomed = letter(db, "oms.ingest", "invalid message: currency: 'XXX' is not supported")
    before = gauge(db, "oms_dead_letters")["oms.ingest"]
    note = "upstream sent a test order; never valid"
    args = ["dlq", "resolve", "oms.ingest", "--id", str(doomed["id"]), "--note", note]
    assert main(args) == 0
    assert gauge(db, "oms_dead_letters")["oms.ingest"] == before - 1
    kept = dead_letter(db, "oms.ingest", doomed["id"])
    assert kept is not None and kept["resolved_at"] is not None
    assert kept["resolution_note"] == note and kept["reason"] == doomed["reason"]
    capsys.readouterr()
    assert main(["dlq", "list", "oms.ingest"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(x for x in lines if x.split()[:1] == [str(doomed["id"])])
    assert "resolved" in row
    assert main(["dlq", "replay", "oms.ingest", "--id", str(doomed["id"]), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert f"dead letter {doomed['id']} is resolved" in err and "would replay" not in out
    assert main(["dlq", "replay", "oms.ingest", "--id", str(doomed["id"])]) == 1  # said why
    assert "0 replayed to oms.ingest; 1 not replayed" in capsys.readouterr().out
    # the same message failing again (re-published upstream) is open again
    record_dead_letter(db, doomed["message"], "invalid message: currency: again")
    assert gauge(db, "oms_dead_letters")["oms.ingest"] == before


def test_resolve_needs_a_note(db: Engine, env: None) -> None:
    doomed = letter(db, "oms.ingest", "invalid message: number: empty")
    with pytest.raises(SystemExit):
        main(["dlq", "resolve", "oms.ingest", "--id", str(doomed["id"])])
    assert dead_letter(db, "oms.ingest", doomed["id"])["resolved_at"] is None  # type: ignore[index]


def test_replaying_a_message_that_failed_validation_warns(
    db: Engine, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    invalid = letter(db, "oms.ingest", "invalid message: items[0].price: 3 decimals")
    assert main(["dlq", "replay", "oms.ingest", "--id", str(invalid["id"]), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {invalid['id']} failed validation" in err
    assert f"oms dlq resolve oms.ingest --id {invalid['id']}" in err
    transient = letter(db, "oms.report", "failed after 25 retries: OmnitronUnavailable: 503")
    assert main(["dlq", "replay", "oms.report", "--id", str(transient["id"]), "--dry-run"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_gauges_read_zero_instead_of_disappearing(db: Engine) -> None:
    letters = gauge(db, "oms_dead_letters")
    assert {"oms.ingest", "oms.split", "oms.packaging", "oms.report", "oms.poll"} <= set(letters)
    packages = gauge(db, "oms_packages")
    assert "cancelled" in packages and "waiting" in packages
