"""`oms package command PACKAGE SLUG [--wait]` and `oms cargo-conditions add FILE`."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, select

from adapters.messaging.broker import build_broker
from adapters.messaging.publisher import PACKAGING, publish
from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.settings import Settings
from domain.package_commands import save_cargo_conditions
from schemas.cargo_conditions import parse_cargo_conditions
from schemas.errors import InvalidMessage


def command_body(package: str, slug: str) -> dict[str, object]:
    reference: dict[str, object] = (
        {"package_id": int(package)} if package.isdigit() else {"package_number": package}
    )
    return {**reference, "slug": slug, "input_parameters": {}}


def outcome(engine: Engine, message_id: str) -> tuple[str, str] | None:
    """(outcome, text) once the command was handled or dead-lettered, else None."""
    with engine.connect() as connection:
        row = connection.execute(
            select(t.transition_log).where(t.transition_log.c.message_id == message_id)
        ).first()
        if row is not None:
            moved = ""
            if row.from_status is not None and row.to_status is not None:
                moved = f" ({_name(row.from_status)} -> {_name(row.to_status)})"
            detail = "" if row.outcome == "applied" else f": {row.reason}"
            return row.outcome, f"{row.outcome}: package {row.package_ref}{moved}{detail}"
    dead = dead_letter_reason(engine, message_id)
    return None if dead is None else ("rejected", f"rejected: {dead}")


def dead_letter_reason(engine: Engine, message_id: str) -> str | None:
    """Why the message was dead-lettered, or None while it was not."""
    with engine.connect() as connection:
        return connection.execute(
            select(t.dead_letters.c.reason).where(t.dead_letters.c.message_id == message_id)
        ).scalar()


def _name(code: int) -> str:
    from domain.statuses import PackageStatus

    return PackageStatus(code).name


def package_command(package: str, slug: str, *, wait: bool, timeout: float = 60.0) -> int:
    settings = Settings.from_env()
    if settings.embedded_broker:
        raise SystemExit("oms package command needs OMS_BROKER_URL to name a RabbitMQ broker")
    broker = build_broker(settings.broker_url, [])
    message_id = str(uuid.uuid4())
    try:
        publish(broker, *PACKAGING, command_body(package, slug), message_id=message_id)
    finally:
        broker.close()
    if not wait:
        print(f"published {slug} for package {package} (message {message_id})")
        return 0
    engine = make_engine(settings.database_url, pool_size=1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = outcome(engine, message_id)
        if found is not None:
            print(found[1])
            return 0 if found[0] == "applied" else 1
        time.sleep(0.2)
    raise SystemExit(f"no outcome for message {message_id} within {timeout:.0f} s: are workers up?")


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
