"""Settings from environment variables (spec section 8). Secrets are never logged or printed.
Bad values fail here, when a command or worker starts, with a message naming the variable."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.references import merchant_reference_problem

DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/oms"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
EMBEDDED_BROKER_URL = "stub://"
DEFAULT_API_ALLOWED_HOSTS = ("127.0.0.1", "localhost")

_TRUE = {"1", "true", "yes", "on"}
# The driver the project installs (psycopg2-binary). SQLAlchemy 2.1 reads a bare
# `postgresql://` as psycopg 3, which is not installed.
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_POSTGRES_DRIVER = "postgresql+psycopg2://"


class SettingsError(ValueError):
    """A setting that cannot work; the message names the variable and never its secret."""


def flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in _TRUE


def _whole_number(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number >= {minimum}, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be a whole number >= {minimum}, not {value}")
    return value


def _merchant_reference(name: str, default: str) -> str:
    """The main merchant's reference obeys the rule of every merchant reference (spec 3): it
    names merchant orders, folders and URLs like any other. Empty means the default."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    problem = merchant_reference_problem(value)
    if problem is not None:
        raise SettingsError(f"{name} is not a valid merchant reference ({value!r}): {problem}")
    return value


def database_url_with_driver(url: str) -> str:
    """`postgresql://…` and `postgres://…` (how most people write it) mean psycopg2 here."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return _POSTGRES_DRIVER + url[len(scheme) :]
    return url


def check_url(name: str, url: str) -> str:
    """Fail on a URL whose credentials are not percent-encoded, without echoing any of it: a
    '/' or '@' in a password moves the host boundary, and the parser's own error would quote
    part of the password."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a password fragment read as the port)
        broken = parts.scheme != "sqlite" and "@" in parts.path
    except ValueError:
        broken = True
    if broken:
        raise SettingsError(
            f"{name} cannot be parsed: percent-encode reserved characters in its user name "
            "and password ('/' as %2F, '@' as %40, ':' as %3A, '%' as %25)"
        )
    return url


def public_url(name: str, raw: str | None) -> str | None:
    """`https://oms.example.com` or `https://example.com/oms` (a path prefix the proxy strips),
    without a trailing slash; unset or blank is None."""
    if raw is None or raw.strip() == "":
        return None
    url = raw.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        raise SettingsError(
            f"{name} must be an http(s) URL with a host and at most a path, e.g. "
            f"https://oms.example.com, not {raw!r}"
        )
    return url


_HOST_NAME = re.compile(r"^(\*|(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?|\[?[0-9a-f:.]+\]?)$")


def allowed_hosts(name: str, raw: str | None) -> tuple[str, ...]:
    """Comma-separated host names without ports, lower-cased: `api.example.com`, an IP
    address, `*.example.com` (any subdomain) or `*` (any host)."""
    if raw is None or raw.strip() == "":
        return DEFAULT_API_ALLOWED_HOSTS
    hosts = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    for host in hosts:
        if not _HOST_NAME.match(host) or (host.count(":") == 1 and not host.startswith("[")):
            raise SettingsError(
                f"{name} lists host names without ports (e.g. api.example.com,localhost), "
                f"not {host!r}"
            )
    return tuple(host.strip("[]") for host in hosts)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = DEFAULT_BROKER_URL
    omnitron_url: str = "http://127.0.0.1:8700"
    omnitron_username: str = "oms"
    omnitron_password: str = "oms"
    auto_run_ship_the_package_command: bool = False
    poll_interval_seconds: int = 60
    main_merchant_reference: str = "MAIN"
    worker_threads: int = 8
    poll_batch_size: int = 50
    # most messages one worker process writes in one transaction (ingest and split; 1 = one
    # transaction per message; SQLite always runs one per message)
    group_commit: int = 64
    # threads per process of the stages that commit in groups (ingest, split): a group is at
    # most the messages its process's threads hold at once (docs/benchmarks.md, issue 12)
    group_threads: int = 32
    # the HTTP API (spec 11): absolute links are built from the public URL when it is set, and a
    # request whose Host header names none of the allowed hosts answers 400
    api_public_url: str | None = None
    api_allowed_hosts: tuple[str, ...] = DEFAULT_API_ALLOWED_HOSTS
    # the web interface (spec 12): a session cookie's life in hours
    session_hours: int = 8
    # spec 13: "pgbouncer" when OMS_DATABASE_URL names a PgBouncer in transaction pooling mode
    # (no SQL-level PREPARE then; `oms db upgrade` goes to OMS_DATABASE_DIRECT_URL)
    database_pooler: str = "none"
    database_direct_url: str | None = None
    # seconds a pooled connection may stay idle before it is closed (0: never)
    db_idle_seconds: float = 10.0
    # database connections per API worker process and engine (reads; the rest): beyond, 503 in 5 s
    api_db_connections: int = 4
    # spec 13: "quorum" declares every queue as a quorum queue (RabbitMQ cluster)
    queue_type: str = "classic"
    # quorum queues: deliveries of one message before the broker dead-letters it (poison loops)
    delivery_limit: int = 50

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        database_url = env.get("OMS_DATABASE_URL", DEFAULT_DATABASE_URL)
        return cls(
            database_url=check_url("OMS_DATABASE_URL", database_url_with_driver(database_url)),
            broker_url=_broker_urls(env.get("OMS_BROKER_URL", DEFAULT_BROKER_URL)),
            omnitron_url=env.get("OMNITRON_URL", cls.omnitron_url),
            omnitron_username=env.get("OMNITRON_USERNAME", cls.omnitron_username),
            omnitron_password=env.get("OMNITRON_PASSWORD", cls.omnitron_password),
            auto_run_ship_the_package_command=flag("AUTO_RUN_SHIP_THE_PACKAGE_COMMAND", False),
            poll_interval_seconds=_whole_number("POLL_INTERVAL_SECONDS", 60),
            main_merchant_reference=_merchant_reference(
                "MAIN_MERCHANT_REFERENCE", cls.main_merchant_reference
            ),
            worker_threads=_whole_number("OMS_WORKER_THREADS", 8),
            poll_batch_size=_whole_number("POLL_BATCH_SIZE", 50),
            group_commit=_whole_number("OMS_GROUP_COMMIT", 64),
            group_threads=_whole_number("OMS_GROUP_THREADS", 32),
            api_public_url=public_url("OMS_API_PUBLIC_URL", env.get("OMS_API_PUBLIC_URL")),
            api_allowed_hosts=allowed_hosts(
                "OMS_API_ALLOWED_HOSTS", env.get("OMS_API_ALLOWED_HOSTS")
            ),
            session_hours=_whole_number("OMS_SESSION_HOURS", 8),
            database_pooler=_choice("OMS_DATABASE_POOLER", ("none", "pgbouncer")),
            database_direct_url=_direct_url(env.get("OMS_DATABASE_DIRECT_URL")),
            db_idle_seconds=float(_whole_number("OMS_DB_IDLE_SECONDS", 10, minimum=0)),
            api_db_connections=_whole_number("OMS_API_DB_CONNECTIONS", 4),
            queue_type=_choice("OMS_QUEUE_TYPE", ("classic", "quorum")),
            delivery_limit=_whole_number("OMS_DELIVERY_LIMIT", 50),
        )

    @property
    def pooled(self) -> bool:
        """The database URL names a transaction-pooling PgBouncer: no session state."""
        return self.database_pooler == "pgbouncer"

    @property
    def broker_urls(self) -> list[str]:
        """OMS_BROKER_URL may list several nodes of one cluster, comma-separated."""
        return split_broker_urls(self.broker_url)

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith("stub:")


def _choice(name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first is the default when unset or blank), case-insensitive."""
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return choices[0]
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def _direct_url(raw: str | None) -> str | None:
    if raw is None or raw.strip() == "":
        return None
    return check_url("OMS_DATABASE_DIRECT_URL", database_url_with_driver(raw.strip()))


def _broker_urls(raw: str) -> str:
    for part in split_broker_urls(raw) or [raw]:
        check_url("OMS_BROKER_URL", part)
    return raw


def split_broker_urls(url: str) -> list[str]:
    """`amqp://a:5672/v,amqp://b:5672/v` (or `;`, dramatiq's own separator) -> one URL a node."""
    return [part.strip() for part in re.split(r"[,;]", url) if part.strip()]


def redact_url(url: str) -> str:
    """amqp://guest:secret@host/ -> amqp://guest:***@host/"""
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)
