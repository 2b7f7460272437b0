"""`oms users …`: the work behind the commands. Passwords come from the terminal (getpass,
asked twice) or, when stdin is not a terminal, from its first line; never from an argument, so
never in a shell history or a process list."""

from __future__ import annotations

import getpass
import json
import re
import sys

from sqlalchemy import Engine

from adapters.persistence.engine import make_engine
from adapters.persistence.merchants import merchant_exists
from adapters.persistence.users import (
    MERCHANT,
    OPERATOR,
    UserError,
    check_password,
    create_user,
    disable_user,
    list_users,
)
from adapters.persistence.users import set_password as store_password
from adapters.settings import Settings
from cli.table import format_rows

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")


def _engine() -> Engine:
    return make_engine(Settings.from_env().database_url, pool_size=1)


def read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("the two passwords differ; nothing changed")
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        check_password(password)
    except UserError as error:
        raise SystemExit(f"{error}; nothing changed") from None
    return password


def create(name: str, *, merchant: str | None, allow_unknown: bool) -> int:
    if not NAME.match(name):
        raise SystemExit(
            "a user name is 1..150 characters of A-Z a-z 0-9 . _ @ -, starting with a letter "
            "or digit"
        )
    if allow_unknown and merchant is None:
        raise SystemExit("--allow-unknown goes with --merchant")
    engine = _engine()
    if merchant is not None and not merchant_exists(engine, merchant) and not allow_unknown:
        raise SystemExit(
            f"merchant {merchant!r} is unknown here (no order of it was split, no process "
            "import named it): check the reference, or pass --allow-unknown"
        )
    password = read_password()
    try:
        user = create_user(
            engine,
            name,
            password,
            kind=MERCHANT if merchant is not None else OPERATOR,
            merchant_reference=merchant,
        )
    except UserError as error:
        raise SystemExit(str(error)) from None
    who = f"merchant {merchant}" if merchant else "operator"
    print(f"user {user.username} ({who}) created")
    return 0


def list_all(*, as_json: bool) -> int:
    users = list_users(_engine())
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "id": u.id,
                        "username": u.username,
                        "kind": u.kind,
                        "merchant_reference": u.merchant_reference,
                        "created_at": u.created_at.isoformat(),
                        "disabled_at": u.disabled_at.isoformat() if u.disabled_at else None,
                    }
                    for u in users
                ],
                indent=2,
            )
        )
        return 0
    table = [["id", "user", "kind", "merchant", "created", "disabled"]]
    for u in users:
        table.append(
            [
                str(u.id),
                u.username,
                u.kind,
                u.merchant_reference or "-",
                f"{u.created_at:%Y-%m-%d %H:%M}",
                f"{u.disabled_at:%Y-%m-%d %H:%M}" if u.disabled_at else "-",
            ]
        )
    print(format_rows(table, numeric={0}))
    print(f"{len(users)} users")
    return 0


def disable(name: str) -> int:
    if disable_user(_engine(), name):
        print(f"user {name} disabled; its open sessions are refused from their next request")
        return 0
    raise SystemExit(f"no enabled user {name!r}")


def set_password(name: str) -> int:
    password = read_password()
    try:
        if store_password(_engine(), name, password):
            print(f"password of {name} changed; its older sessions are refused")
            return 0
    except UserError as error:
        raise SystemExit(str(error)) from None
    raise SystemExit(f"no user {name!r}")
