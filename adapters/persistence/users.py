"""People of the web interface (spec 12): users with Argon2id password hashes (argon2-cffi's
`PasswordHasher`, whose default type is Argon2id), the per-name login throttle and the key that
signs session cookies. A password is only ever passed in and hashed; it is never stored, logged
or returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapters.persistence import tables as t

OPERATOR = "operator"
MERCHANT = "merchant"
MAX_FAILURES = 10  # failed logins in a row that lock a user name
LOCK_MINUTES = 15
MIN_PASSWORD = 10
MAX_PASSWORD = 1024

_hasher = PasswordHasher()  # Argon2id, argon2-cffi's RFC 9106 "low memory" profile


@cache
def _dummy_hash() -> str:
    """Verified when the user name is unknown (or locked), so every answer takes as long."""
    return _hasher.hash("not a password of anyone")


class UserError(ValueError):
    """A user that cannot be made or changed as asked (said in the message)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    kind: str
    merchant_reference: str | None
    created_at: datetime
    password_changed_at: datetime
    disabled_at: datetime | None

    @property
    def is_operator(self) -> bool:
        return self.kind == OPERATOR


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserError(f"a password has {MIN_PASSWORD}..{MAX_PASSWORD} characters")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC times."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _user(r: Any) -> User:
    return User(
        int(r.id),
        r.username,
        r.kind,
        r.merchant_reference,
        _aware(r.created_at) or r.created_at,
        _aware(r.password_changed_at) or r.password_changed_at,
        _aware(r.disabled_at),
    )


_COLUMNS = (
    t.users.c.id,
    t.users.c.username,
    t.users.c.kind,
    t.users.c.merchant_reference,
    t.users.c.created_at,
    t.users.c.password_changed_at,
    t.users.c.disabled_at,
)


def create_user(
    engine: Engine, username: str, password: str, *, kind: str, merchant_reference: str | None
) -> User:
    if kind not in (OPERATOR, MERCHANT):
        raise UserError(f"unknown user kind {kind!r}")
    if (kind == MERCHANT) != bool(merchant_reference):
        raise UserError("a merchant user names its merchant; an operator names none")
    check_password(password)
    now = _now()
    with engine.begin() as connection:
        taken = connection.execute(
            select(t.users.c.id).where(t.users.c.username == username)
        ).first()
        if taken is not None:
            raise UserError(f"user {username!r} exists")
        connection.execute(
            insert(t.users).values(
                username=username,
                kind=kind,
                merchant_reference=merchant_reference,
                password_hash=_hasher.hash(password),
                created_at=now,
                password_changed_at=now,
            )
        )
        row = connection.execute(select(*_COLUMNS).where(t.users.c.username == username)).one()
    return _user(row)


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as connection:
        return [_user(r) for r in connection.execute(select(*_COLUMNS).order_by(t.users.c.id))]


def user_by_id(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as connection:
        row = connection.execute(select(*_COLUMNS).where(t.users.c.id == user_id)).first()
    return None if row is None else _user(row)


def session_user(engine: Engine, user_id: int, session_id: str) -> User | None:
    """What every web request checks its session against, in one statement of two
    primary-key reads: the user, unless this session was ended by logging out."""
    ended = select(t.ended_sessions.c.session_id).where(t.ended_sessions.c.session_id == session_id)
    query = select(*_COLUMNS).where(t.users.c.id == user_id, ~ended.exists())
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else _user(row)


def end_session(engine: Engine, session_id: str, expires_at: datetime) -> None:
    """Logging out: this session's cookie is refused from now on, even if it was copied.
    Rows of sessions that would have expired anyway are deleted on the way."""
    now = _now()
    ended = t.ended_sessions
    with engine.begin() as connection:
        connection.execute(delete(ended).where(ended.c.expires_at < now))
        exists_already = connection.execute(
            select(ended.c.session_id).where(ended.c.session_id == session_id)
        ).first()
        if exists_already is None:
            connection.execute(
                insert(ended).values(session_id=session_id, ended_at=now, expires_at=expires_at)
            )


def disable_user(engine: Engine, username: str) -> bool:
    """True when the user existed and was enabled."""
    with engine.begin() as connection:
        done = connection.execute(
            update(t.users)
            .where(t.users.c.username == username, t.users.c.disabled_at.is_(None))
            .values(disabled_at=_now())
        )
    return done.rowcount == 1


def set_password(engine: Engine, username: str, password: str) -> bool:
    """True when the user exists; its sessions from before are refused from now on, and a
    lockout of its name ends."""
    check_password(password)
    with engine.begin() as connection:
        done = connection.execute(
            update(t.users)
            .where(t.users.c.username == username)
            .values(password_hash=_hasher.hash(password), password_changed_at=_now())
        )
        connection.execute(delete(t.login_throttle).where(t.login_throttle.c.username == username))
    return done.rowcount == 1


@dataclass(frozen=True)
class LoginResult:
    user: User | None  # None: refused (wrong name or password, disabled, or locked)
    locked: bool = False


def authenticate(engine: Engine, username: str, password: str) -> LoginResult:
    """The user when the name and password match an enabled user whose name is not locked.
    Every refusal counts as a failure of that name, existing or not; the tenth in a row locks
    the name for LOCK_MINUTES. A success clears the count."""
    now = _now()
    throttle = t.login_throttle
    with engine.connect() as connection:
        locked_until = connection.execute(
            select(throttle.c.locked_until).where(throttle.c.username == username)
        ).scalar_one_or_none()
        row = connection.execute(
            select(*_COLUMNS, t.users.c.password_hash).where(t.users.c.username == username)
        ).first()
    locked_until = _aware(locked_until)
    if locked_until is not None and locked_until > now:
        _hasher_verify(_dummy_hash(), password)  # the same time as any other answer
        return LoginResult(None, locked=True)
    good = _hasher_verify(row.password_hash if row is not None else _dummy_hash(), password)
    if row is not None and good and row.disabled_at is None:
        with engine.begin() as connection:
            connection.execute(delete(throttle).where(throttle.c.username == username))
            if _hasher.check_needs_rehash(row.password_hash):
                connection.execute(
                    update(t.users)
                    .where(t.users.c.id == row.id)
                    .values(password_hash=_hasher.hash(password))
                )
        return LoginResult(_user(row))
    try:
        return LoginResult(None, locked=_count_failure(engine, username, now))
    except IntegrityError:  # another failure of the same new name inserted its row first
        return LoginResult(None, locked=_count_failure(engine, username, now))


def _hasher_verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _count_failure(engine: Engine, username: str, now: datetime) -> bool:
    """One more failure in a row for this name; True when it is now locked."""
    throttle = t.login_throttle
    with engine.begin() as connection:
        row = connection.execute(
            select(throttle.c.failures, throttle.c.locked_until)
            .where(throttle.c.username == username)
            .with_for_update()
        ).first()
        if row is None:
            connection.execute(
                insert(throttle).values(username=username, failures=1, last_failure_at=now)
            )
            return MAX_FAILURES <= 1
        # a lock that ran out starts a new count
        failures = 1 if _aware(row.locked_until) is not None else row.failures + 1
        locked = now + timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
        connection.execute(
            update(throttle)
            .where(throttle.c.username == username)
            .values(failures=failures, last_failure_at=now, locked_until=locked)
        )
    return locked is not None


def session_secret(engine: Engine) -> str:
    """The key that signs session cookies (made by migration 0015)."""
    with engine.connect() as connection:
        found = connection.execute(
            select(t.session_keys.c.secret).where(t.session_keys.c.name == "session")
        ).scalar_one_or_none()
    if found is None:
        raise RuntimeError("no session key: run `oms db upgrade`")
    return str(found)
