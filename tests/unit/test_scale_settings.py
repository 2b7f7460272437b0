"""Settings and URL handling of spec 13: node lists, queue type, pooler (no services)."""

from __future__ import annotations

import pytest

from adapters.messaging.nodes import (
    dead_letter_queue_arguments,
    each_node,
    each_node_default,
    node_urls,
    rotated,
    work_queue_arguments,
)
from adapters.persistence import prepared
from adapters.settings import Settings, SettingsError

A = "amqp://u:p@mq1:5672/oms"
B = "amqp://u:p@mq2:5672/oms?heartbeat=10"


def test_a_node_list_is_split_and_each_node_gets_the_query() -> None:
    assert node_urls(f"{A}, {B}") == [A, B]
    assert node_urls(f"{A};{B}") == [A, B]
    both = each_node_default(f"{A},{B}", heartbeat="30")
    assert node_urls(both) == [f"{A}?heartbeat=30", B]  # a node's own value wins
    assert "socket_timeout=2" in node_urls(each_node(B, socket_timeout="2"))[0]
    assert sorted(rotated(f"{A},{B}")) == sorted([A, B])


def test_settings_accept_a_node_list_and_check_every_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_BROKER_URL", f"{A},{B}")
    assert Settings.from_env().broker_urls == [A, B]
    monkeypatch.setenv("OMS_BROKER_URL", f"{A},amqp://u:p/ss@mq2/oms")
    with pytest.raises(SettingsError, match="OMS_BROKER_URL cannot be parsed"):
        Settings.from_env()


@pytest.mark.parametrize("name", ["OMS_QUEUE_TYPE", "OMS_DATABASE_POOLER"])
def test_an_unknown_choice_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "mirrored")
    with pytest.raises(SettingsError, match=name):
        Settings.from_env()


def test_prepared_statements_are_off_behind_the_pooler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMS_PREPARED_STATEMENTS", raising=False)
    monkeypatch.delenv("OMS_DATABASE_POOLER", raising=False)
    assert prepared.enabled()
    monkeypatch.setenv("OMS_DATABASE_POOLER", "pgbouncer")
    assert not prepared.enabled()
    assert Settings.from_env().pooled


def test_quorum_arguments() -> None:
    classic = work_queue_arguments("q.XQ", "classic", 50)
    assert classic == {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "q.XQ"}
    quorum = work_queue_arguments("q.XQ", "quorum", 7)
    assert quorum["x-queue-type"] == "quorum" and quorum["x-delivery-limit"] == 7
    assert (quorum["x-dead-letter-strategy"], quorum["x-overflow"]) == (
        "at-least-once",
        "reject-publish",
    )
    assert dead_letter_queue_arguments(1000, "quorum") == {
        "x-message-ttl": 1000,
        "x-queue-type": "quorum",
    }
    assert dead_letter_queue_arguments(1000, "classic") == {"x-message-ttl": 1000}
