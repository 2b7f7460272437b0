"""`oms package command PACKAGE SLUG` for one package (issue 21 item 20): a package number is
unique per channel only, so one that two channels share is refused before anything is
published, naming the channels; `--channel ID` picks one, and the message then names that
package by id. An unknown package is refused before publishing too."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator

import pika
import pytest
from sqlalchemy import Engine, select

from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from cli.main import main
from domain.packaging import COMPLETE_PACKAGING
from tests import services
from tests.api.stored import example, store

pytestmark = pytest.mark.services


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def env(postgres_url: str, rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("OMS_BROKER_URL", rabbitmq_url)
    services.purge_queues(rabbitmq_url)
    return rabbitmq_url


def published(url: str) -> list[dict[str, object]]:
    """The package commands waiting in oms.packaging (taken off the queue)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    bodies = []
    try:
        channel = connection.channel()
        try:
            channel.queue_declare("oms.packaging", passive=True)
        except pika.exceptions.ChannelClosedByBroker:
            return []
        while True:
            method, _properties, body = channel.basic_get("oms.packaging", auto_ack=True)
            if method is None:
                return bodies
            bodies.append(json.loads(body)["args"][0])
    finally:
        connection.close()


def test_a_package_number_two_channels_share_is_refused_before_publishing(
    db: Engine, env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    number = f"AMB-{uuid.uuid4().hex[:8]}"
    first, second = random.sample(range(10**6, 10**9), 2)
    store(db, example(number, first))
    store(db, example(number, second))
    package = f"{number}--MER000002"
    with db.connect() as c:
        ids = dict(
            c.execute(
                select(t.packages.c.channel_id, t.packages.c.id).where(
                    t.packages.c.number == package
                )
            ).all()
        )
    assert set(ids) == {first, second}

    with pytest.raises(SystemExit) as refused:
        main(["package", "command", package, COMPLETE_PACKAGING])
    said = str(refused.value.code)
    assert f"package number {package!r} exists in channels" in said
    assert str(first) in said and str(second) in said and "--channel" in said
    assert published(env) == [], "nothing published"

    assert main(["package", "command", package, COMPLETE_PACKAGING, "--channel", str(second)]) == 0
    assert published(env) == [
        {"package_id": ids[second], "slug": COMPLETE_PACKAGING, "input_parameters": {}}
    ]
    assert f"for package {package} (id {ids[second]})" in capsys.readouterr().out

    for unknown in ([f"{number}--NOPE"], [package, "--channel", "7"], ["999999999999"]):
        with pytest.raises(SystemExit) as refused:
            main(["package", "command", unknown[0], COMPLETE_PACKAGING, *unknown[1:]])
        assert str(refused.value.code).startswith(f"no package {unknown[0]!r}")
    assert published(env) == []
