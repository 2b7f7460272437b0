"""Settings fail at start with a message naming the variable (issue 8, items 11, 13, 15)."""

from __future__ import annotations

import pytest

from adapters.settings import Settings
from cli.main import main


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("postgresql://postgres@db:5432/oms", "postgresql+psycopg2://postgres@db:5432/oms"),
        ("postgres://u:p@db/oms", "postgresql+psycopg2://u:p@db/oms"),
        ("postgresql+psycopg2://postgres@db/oms", "postgresql+psycopg2://postgres@db/oms"),
        ("sqlite:////tmp/oms.sqlite3", "sqlite:////tmp/oms.sqlite3"),
    ],
)
def test_either_form_of_postgresql_url_uses_the_installed_driver(
    monkeypatch: pytest.MonkeyPatch, written: str, meant: str
) -> None:
    monkeypatch.setenv("OMS_DATABASE_URL", written)
    assert Settings.from_env().database_url == meant


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POLL_BATCH_SIZE", "0"),
        ("POLL_BATCH_SIZE", "-5"),
        ("POLL_BATCH_SIZE", "fifty"),
        ("POLL_INTERVAL_SECONDS", "0"),
        ("POLL_INTERVAL_SECONDS", "-1"),
        ("POLL_INTERVAL_SECONDS", "1.5"),
        ("OMS_WORKER_THREADS", "0"),
    ],
)
def test_bad_numbers_fail_at_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"^{name} must be a whole number >= 1"):
        Settings.from_env()


def test_good_numbers_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLL_BATCH_SIZE", "1")
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", " 30 ")
    settings = Settings.from_env()
    assert (settings.poll_batch_size, settings.poll_interval_seconds) == (1, 30)


def test_a_bad_setting_stops_a_command_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLL_BATCH_SIZE", "0")
    monkeypatch.setenv("OMS_DATABASE_URL", "sqlite:////nonexistent/never-opened.sqlite3")
    assert main(["dlq", "list", "oms.ingest"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "oms: SettingsError: POLL_BATCH_SIZE must be a whole number >= 1, not 0"


@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest:Xq7/Zk9@127.0.0.1:5672/%2F",
        "amqp://guest:4711/Zk9@127.0.0.1:5672/%2F",
    ],
)
def test_an_unencoded_broker_password_is_named_never_echoed(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("OMS_BROKER_URL", url)
    with pytest.raises(ValueError) as raised:
        Settings.from_env()
    message = str(raised.value)
    assert message.startswith("OMS_BROKER_URL cannot be parsed: percent-encode")
    assert not any(part in message for part in ("Xq7", "Zk9", "4711"))


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("-MAIN", "must not start or end with '-' or '.'"),
        ("MAIN.", "must not start or end with '-' or '.'"),
        ("MA--IN", "must not contain '--'"),
        ("MA/IN", "only, not '/'"),
        ("M" * 65, "must be 1 to 64 characters, not 65"),
    ],
)
def test_a_main_merchant_reference_breaking_the_reference_rule_fails_at_start(
    monkeypatch: pytest.MonkeyPatch, value: str, rule: str
) -> None:
    """Items with no merchant get this reference: it must obey the rule every other merchant
    reference does (spec 3; issue 21, item 9)."""
    monkeypatch.setenv("MAIN_MERCHANT_REFERENCE", value)
    with pytest.raises(ValueError, match=r"^MAIN_MERCHANT_REFERENCE is not a valid merchant") as e:
        Settings.from_env()
    assert rule in str(e.value)


@pytest.mark.parametrize(("value", "meant"), [("OPERATOR_1", "OPERATOR_1"), ("", "MAIN")])
def test_a_valid_or_empty_main_merchant_reference_is_read(
    monkeypatch: pytest.MonkeyPatch, value: str, meant: str
) -> None:
    monkeypatch.setenv("MAIN_MERCHANT_REFERENCE", value)
    assert Settings.from_env().main_merchant_reference == meant
