"""A dead-lettered order can be found by its number (issue 21 item 19): the dead letter records
the order number and channel its body names whatever failed (through the worker's middleware,
whose message holds its args as a tuple, and from an envelope kept raw); `oms dlq list` shows
and filters by the order; `oms show order NUMBER` (and `--history`) says it was dead-lettered,
why, and how to list or replay it; `oms dlq replay` of a letter that cannot be replayed says
why and exits 1."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from dramatiq.broker import MessageProxy
from sqlalchemy import Engine, select

from adapters.messaging.dead_letter_keeper import as_message
from adapters.messaging.middleware import DeadLetterRecorder
from adapters.messaging.publisher import message_for
from adapters.persistence import tables as t
from adapters.persistence.dead_letters import dead_letters, record_dead_letter
from cli.main import main
from domain.errors import InvalidInput
from workers import bootstrap

CHANNEL = {"id": 42, "name": "Trendyol", "channel_type": "trendyol"}


def invalid_order(number: Any, channel: Any = CHANNEL) -> dict[str, Any]:
    """An inbound order that fails validation elsewhere than its number and channel."""
    return {
        "number": number,
        "channel": channel,
        "status": "400",
        "date_placed": "2026-11-21T10:00:00+03:00",
        "currency": "try",
        "items": [{"id": 1, "product": {"sku": "X", "name": "X"}, "price": "10.005"}],
    }


def dead_letter_as_the_worker_does(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, body: Any
) -> str:
    """The ingest actor binds the body's number to its log context and raises; the worker's
    DeadLetterRecorder records the failed message (its args a tuple, as dramatiq holds it)
    through the worker's own recorder. Returns the message id."""
    monkeypatch.setattr(bootstrap, "engine", lambda: engine)
    message = message_for("oms.ingest", "ingest_order", body)
    proxy = MessageProxy(message)
    proxy.fail()
    structlog.contextvars.clear_contextvars()
    if isinstance(body, dict):
        structlog.contextvars.bind_contextvars(order_number=body.get("number"))
    try:
        DeadLetterRecorder(bootstrap.record_dead_letter, attempts=1).after_process_message(
            None,  # type: ignore[arg-type]
            proxy,
            exception=InvalidInput("items[0].price: '10.005' has 3 decimals; TRY allows 2"),
        )
    finally:
        structlog.contextvars.clear_contextvars()
    return message.message_id


def recorded(engine: Engine, message_id: str) -> tuple[str | None, int | None]:
    with engine.connect() as c:
        row = c.execute(
            select(t.dead_letters.c.order_number, t.dead_letters.c.order_channel_id).where(
                t.dead_letters.c.message_id == message_id
            )
        ).one()
    return row.order_number, row.order_channel_id


@pytest.mark.parametrize(
    ("number", "channel", "expected"),
    [
        ("BAD-1", CHANNEL, ("BAD-1", 42)),  # only the price is wrong
        ("BAD-2", {"id": "42", "name": "T", "channel_type": "trendyol"}, ("BAD-2", 42)),
        (100042, CHANNEL, ("100042", 42)),  # a number sent as a JSON integer
        ("BAD\x00NUL", CHANNEL, ("BAD\\x00NUL", 42)),  # stored, not a failed record
        ("BAD-3", "trendyol", ("BAD-3", None)),  # no channel id to take
    ],
)
def test_an_ingest_dead_letter_names_the_order_and_channel_its_body_gives(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    number: Any,
    channel: Any,
    expected: tuple[str, int | None],
) -> None:
    suffix = uuid.uuid4().hex[:6]
    unique = f"{number}-{suffix}" if isinstance(number, str) else number + int(suffix, 16)
    message_id = dead_letter_as_the_worker_does(engine, monkeypatch, invalid_order(unique, channel))
    want = (f"{expected[0]}-{suffix}" if isinstance(number, str) else str(unique), expected[1])
    assert recorded(engine, message_id) == want


def test_an_envelope_kept_raw_still_names_its_order(engine: Engine) -> None:
    """An envelope dramatiq cannot run (here: no message_timestamp) is kept raw by the consumer
    or the keeper; the order its body names is still recorded."""
    number = f"RAW-{uuid.uuid4().hex[:6]}"
    envelope = message_for("oms.ingest", "ingest_order", invalid_order(number)).asdict()
    del envelope["message_timestamp"]
    message, reason = as_message("oms.ingest", json.dumps(envelope).encode())
    assert "raw" in message and reason is not None
    record_dead_letter(engine, message, reason)
    assert recorded(engine, message["message_id"]) == (number, 42)


@pytest.fixture
def cli_env(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("OMS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("OMS_BROKER_URL", "amqp://guest:guest@127.0.0.1:1/oms-test-unreachable")
    yield engine


def test_show_order_names_the_dead_letter_of_an_order_that_was_never_stored(
    cli_env: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    number = f"BAD-{uuid.uuid4().hex[:6]}"
    dead_letter_as_the_worker_does(cli_env, monkeypatch, invalid_order(number))
    (letter,) = dead_letters(cli_env, "oms.ingest", order_number=number)
    for history in ([], ["--history"]):
        with pytest.raises(SystemExit) as exit_:
            main(["show", "order", number, *history])
        said = str(exit_.value.code)
        first = said.splitlines()[0]
        assert first.startswith(f"no order '{number}': it was dead-lettered")
        assert f"oms.ingest {letter['id']}, open" in first
        assert "items[0].price: '10.005' has 3 decimals" in first
        assert f"oms dlq list --order {number}" in said
        assert f"oms dlq show oms.ingest --id {letter['id']}" in said
        assert f"oms dlq resolve oms.ingest --id {letter['id']}" in said  # it failed validation
    with pytest.raises(SystemExit) as exit_:
        main(["show", "order", number, "--channel", "7"])  # another channel's order: none
    assert str(exit_.value.code) == f"no order '{number}' in channel 7"


def test_dlq_list_shows_and_filters_by_the_order(
    cli_env: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    number = f"BAD-{uuid.uuid4().hex[:6]}"
    dead_letter_as_the_worker_does(cli_env, monkeypatch, invalid_order(number))
    other = f"BAD-{uuid.uuid4().hex[:6]}"
    dead_letter_as_the_worker_does(cli_env, monkeypatch, invalid_order(other))
    capsys.readouterr()  # the recorder's log lines

    assert main(["dlq", "list", "oms.ingest"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["id", "order", "message"]
    assert any(line.split()[1] == number for line in lines[1:-1])

    assert main(["dlq", "list", "--order", number]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[1].split()[1:3] == ["oms.ingest", number]
    assert lines[-1] == f"1 dead letters naming order '{number}' in all queues, 1 open"

    assert main(["dlq", "list", "--order", number, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["order_number"], row["order_channel_id"], row["queue_name"]) == (
        number,
        42,
        "oms.ingest",
    )


def test_replaying_a_letter_that_is_no_dramatiq_message_says_why_and_fails(
    cli_env: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = b"{not json " + uuid.uuid4().hex.encode()
    message, reason = as_message("oms.ingest", garbage)
    record_dead_letter(cli_env, message, reason or "")
    (letter,) = [
        d for d in dead_letters(cli_env, "oms.ingest") if d["message_id"] == message["message_id"]
    ]
    assert main(["dlq", "replay", "oms.ingest", "--id", str(letter["id"])]) == 1
    out, err = capsys.readouterr()
    assert f"dead letter {letter['id']} cannot be replayed: it is no dramatiq message" in err
    assert "undecodable message: the body is not JSON" in err
    assert f"oms dlq resolve oms.ingest --id {letter['id']}" in err
    assert out.splitlines()[-1] == "0 replayed to oms.ingest; 1 not replayed (said why above)"
