"""`oms package command PACKAGE SLUG [--wait]` and `oms cargo-conditions add FILE`."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine

from adapters.messaging.broker import build_broker
from adapters.messaging.publisher import PACKAGING, publish
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.package_commands import command_outcome, packages_named
from adapters.settings import Settings
from domain.package_commands import save_cargo_conditions
from flows.package_bulk import command_body
from schemas.cargo_conditions import parse_cargo_conditions
from schemas.errors import InvalidMessage


def package_command(
    package: str, slug: str, *, wait: bool, timeout: float = 60.0, channel: int | None = None
) -> int:
    """Publish SLUG for one package, named by id or by number (unique per channel: `channel`
    picks one). The package is looked up first: an unknown one, or a number several channels
    share without `--channel`, is refused before anything is published."""
    settings = Settings.from_env()
    if settings.embedded_broker:
        raise SystemExit("oms package command needs OMS_BROKER_URL to name a RabbitMQ broker")
    engine = make_engine(settings.database_url, pool_size=1)
    package_id = _one_package(engine, package, channel)
    broker = build_broker(settings.broker_url, [])
    message_id = str(uuid.uuid4())
    try:
        publish(broker, *PACKAGING, command_body(str(package_id), slug), message_id=message_id)
    finally:
        broker.close()
    if not wait:
        named = package if package.isdigit() else f"{package} (id {package_id})"
        print(f"published {slug} for package {named} (message {message_id})")
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = command_outcome(engine, message_id)
        if found is not None:
            print(found.text())
            return 0 if found.applied else 1
        time.sleep(0.2)
    raise SystemExit(f"no outcome for message {message_id} within {timeout:.0f} s: are workers up?")


def _one_package(engine: Engine, package: str, channel: int | None) -> int:
    found = packages_named(engine, package, channel)
    where = f" in channel {channel}" if channel is not None else ""
    if not found:
        raise SystemExit(f"no package {package!r}{where}")
    if len(found) > 1:
        listed = ", ".join(f"{channel_id} (package id {id_})" for id_, channel_id in found)
        raise SystemExit(
            f"package number {package!r} exists in channels {listed}: "
            "give --channel ID or the package id; nothing was published"
        )
    return found[0][0]


def add_cargo_conditions(path: str) -> int:
    try:
        conditions = parse_cargo_conditions(json.loads(Path(path).read_text(encoding="utf-8")))
    except InvalidMessage as error:
        raise SystemExit(f"refused: {error}") from None
    except json.JSONDecodeError as error:
        raise SystemExit(f"refused: {path} is not JSON: {error.msg}") from None
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    save_cargo_conditions(conditions, SqlUnitOfWork(engine))
    channels = sorted({c for rule in conditions.rules for c in rule.channels})
    print(
        f"cargo company {conditions.cargo_company_id}: {len(conditions.rules)} rules "
        f"saved (channels {channels})"
    )
    return 0
