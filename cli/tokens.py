"""`oms tokens create|list|revoke`: API keys. A key is printed once, at creation; the database
keeps only its sha256 and a short prefix."""

from __future__ import annotations

import json
import sys

from sqlalchemy import Engine

from adapters.persistence.api_tokens import (
    MERCHANT,
    OPERATOR,
    create_token,
    list_tokens,
    revoke_token,
)
from adapters.persistence.engine import make_engine
from adapters.persistence.merchants import merchant_exists
from adapters.settings import Settings
from cli.table import format_rows

MAX_NAME = 255
MAX_REFERENCE = 128


def _engine() -> Engine:
    return make_engine(Settings.from_env().database_url, pool_size=1)


def create(
    *, operator: str | None, merchant: str | None, name: str | None, allow_unknown: bool = False
) -> int:
    label = (operator if operator is not None else name or merchant or "").strip()
    if not label or len(label) > MAX_NAME:
        raise SystemExit(f"a token needs a name of 1..{MAX_NAME} characters")
    if merchant is not None and not (0 < len(merchant.strip()) <= MAX_REFERENCE):
        raise SystemExit(f"a merchant reference has 1..{MAX_REFERENCE} characters")
    if operator is not None and name is not None:
        raise SystemExit("--name goes with --merchant; an operator key is named by --operator")
    kind = OPERATOR if operator is not None else MERCHANT
    reference = merchant.strip() if merchant is not None else None
    engine = _engine()
    if reference is not None and not merchant_exists(engine, reference):
        if not allow_unknown:
            raise SystemExit(
                f"merchant {reference!r} is unknown here (no order of it was split, no process "
                "import named it): check the reference, or pass --allow-unknown to issue the key "
                "anyway (it sees nothing until that merchant's orders arrive)"
            )
        print(
            f"note: merchant {reference!r} is unknown here yet (--allow-unknown)", file=sys.stderr
        )
    token_id, key = create_token(engine, kind=kind, name=label, merchant_reference=reference)
    who = f"merchant {reference}" if reference else "operator"
    print(f"token {token_id} ({who}, {label!r}); the key is shown only now:")
    print(key)
    return 0


def list_all(*, as_json: bool) -> int:
    tokens = list_tokens(_engine())
    if as_json:
        rows = [
            {
                "id": t.id,
                "kind": t.kind,
                "name": t.name,
                "merchant_reference": t.merchant_reference,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in tokens
        ]
        print(json.dumps(rows, indent=2))
        return 0
    table = [["id", "kind", "name", "merchant", "prefix", "created", "revoked"]]
    for t in tokens:
        table.append(
            [
                str(t.id),
                t.kind,
                t.name,
                t.merchant_reference or "-",
                t.prefix + "…",
                f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "-",
            ]
        )
    print(format_rows(table, numeric={0}))
    print(f"{len(tokens)} tokens")
    return 0


def revoke(token_id: int) -> int:
    if revoke_token(_engine(), token_id):
        print(f"token {token_id} revoked")
        return 0
    raise SystemExit(f"no live token {token_id}")
