"""API keys (spec section 11): only the sha256 of a key is stored, with a short prefix that tells
keys apart in `oms tokens list`. Keys are 32 random bytes, so a fast hash is enough."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, insert, select, update

from adapters.persistence import tables as t
from adapters.persistence.prepared_reads import ReadStatement

OPERATOR = "operator"
MERCHANT = "merchant"
KEY_PREFIX = "oms_"
PREFIX_LENGTH = len(KEY_PREFIX) + 6


@dataclass(frozen=True)
class Principal:
    """Who a valid key belongs to."""

    token_id: int
    kind: str
    name: str
    merchant_reference: str | None

    @property
    def is_operator(self) -> bool:
        return self.kind == OPERATOR


@dataclass(frozen=True)
class TokenInfo:
    id: int
    kind: str
    name: str
    merchant_reference: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_token(
    engine: Engine, *, kind: str, name: str, merchant_reference: str | None = None
) -> tuple[int, str]:
    """(id, key): the key is returned once and never stored."""
    if kind not in (OPERATOR, MERCHANT):
        raise ValueError(f"unknown token kind {kind!r}")
    if (kind == MERCHANT) != bool(merchant_reference):
        raise ValueError("a merchant token names its merchant; an operator token names none")
    key = new_key()
    with engine.begin() as connection:
        token_id = connection.execute(
            insert(t.api_tokens)
            .values(
                kind=kind,
                name=name,
                merchant_reference=merchant_reference if kind == MERCHANT else None,
                key_hash=hash_key(key),
                prefix=key[:PREFIX_LENGTH],
                created_at=datetime.now(UTC),
            )
            .returning(t.api_tokens.c.id)
        ).scalar_one()
    return int(token_id), key


def list_tokens(engine: Engine) -> list[TokenInfo]:
    c = t.api_tokens.c
    query = select(
        c.id, c.kind, c.name, c.merchant_reference, c.prefix, c.created_at, c.revoked_at
    ).order_by(c.id)
    with engine.connect() as connection:
        return [TokenInfo(*row) for row in connection.execute(query)]


def revoke_token(engine: Engine, token_id: int) -> bool:
    """True when the token existed and was live; revoking twice changes nothing."""
    c = t.api_tokens.c
    with engine.begin() as connection:
        done = connection.execute(
            update(t.api_tokens)
            .where(c.id == token_id, c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return done.rowcount == 1


_c = t.api_tokens.c
# built once (prepared on PostgreSQL); `key_hash` is unique, so this is one index lookup
SELECT_PRINCIPAL = ReadStatement(
    select(_c.id, _c.kind, _c.name, _c.merchant_reference).where(
        _c.key_hash == bindparam("key_hash"), _c.revoked_at.is_(None)
    )
)


def principal_for(engine: Engine, key: str) -> Principal | None:
    """The live token's owner for this key, or None (unknown or revoked)."""
    return _principal(engine, hash_key(key))


def _principal(engine: Engine, key_hash: str) -> Principal | None:
    with engine.connect() as connection:
        found = SELECT_PRINCIPAL.rows(connection, {"key_hash": key_hash})
    row = found[0] if found else None
    return (
        None if row is None else Principal(int(row.id), row.kind, row.name, row.merchant_reference)
    )


KEY_TTL_SECONDS = 1.0


class KeyCache:
    """What the keys seen in the last `ttl` seconds belong to (None: unknown or revoked), by
    their sha256: at most one indexed lookup per key per second, and a key revoked is refused
    within `ttl`. Unknown keys are remembered too (a flood of one bad key costs one lookup a
    second). At most `size` keys; when full it starts again empty. The key itself is never
    kept, only its hash."""

    def __init__(self, ttl: float = KEY_TTL_SECONDS, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def cached(self, key: str) -> tuple[bool, Principal | None]:
        """(True, its answer) when the key was looked up less than `ttl` ago, else (False,
        None): no database, so callable on an event loop."""
        entry = self._entries.get(hash_key(key))
        if entry is not None and entry[0] > time.monotonic():
            return True, entry[1]
        return False, None

    def principal(self, engine: Engine, key: str) -> Principal | None:
        digest = hash_key(key)
        now = time.monotonic()
        entry = self._entries.get(digest)
        if entry is not None and entry[0] > now:
            return entry[1]
        found = _principal(engine, digest)
        if len(self._entries) >= self.size:
            self._entries = {}
        self._entries[digest] = (now + self.ttl, found)
        return found
