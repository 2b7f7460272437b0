"""A database and a RabbitMQ vhost of its own, on the configured servers, for `oms bench` and
`oms demo --real-services`: they never touch the live pipeline's database, queues or Omnitron,
and what they create is removed at the end, also on an error, Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import requests
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from adapters.messaging.queue_stats import management_url, plain_http_refused
from adapters.settings import Settings

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Scratch:
    database: str
    database_url: str
    vhost: str
    broker_url: str


class ScratchError(RuntimeError):
    pass


_signalled: list[int] = []


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM: raise KeyboardInterrupt, and remember it. Python swallows an exception
    raised while it runs a garbage-collection callback (SQLAlchemy has some), so the raise alone
    could be lost and the bench run to its end: its waiting loops and the end of the scratch
    block ask `raise_if_interrupted()` too."""
    _signalled.append(signum)
    raise KeyboardInterrupt(f"signal {signum}")


def raise_if_interrupted() -> None:
    if _signalled:
        raise KeyboardInterrupt(f"signal {_signalled[-1]}")


def pause(seconds: float) -> None:
    """A waiting loop's sleep, after which a swallowed Ctrl-C or SIGTERM is raised again."""
    time.sleep(seconds)
    raise_if_interrupted()


def announce(command: str, scratch: Scratch, *, keep: bool = False) -> None:
    """The run's first line: what it made on the configured servers (tests read it)."""
    fate = "kept at the end (--keep)" if keep else "removed at the end"
    print(
        f"{command}: scratch database {scratch.database} and vhost {scratch.vhost} "
        f"on the configured servers ({fate})",
        flush=True,
    )


@contextlib.contextmanager
def scratch_services(settings: Settings, label: str, *, keep: bool = False) -> Iterator[Scratch]:
    """Create `oms_<label>_<random>` database and `oms-<label>-<random>` vhost; drop both after
    (`keep`: leave both for the user to look at; an interrupted run still removes them)."""
    if settings.embedded_broker or make_url(settings.database_url).get_backend_name() != (
        "postgresql"
    ):
        raise ScratchError("needs PostgreSQL and RabbitMQ: set OMS_DATABASE_URL and OMS_BROKER_URL")
    tag = uuid.uuid4().hex[:8]
    _signalled.clear()
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with (
            _database(settings.database_url, f"oms_{label}_{tag}", keep) as (name, url),
            _vhost(settings.broker_url, f"oms-{label}-{tag}", keep) as (vhost, broker_url),
        ):
            yield Scratch(name, url, vhost, broker_url)
            raise_if_interrupted()  # a signal whose KeyboardInterrupt was swallowed
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _database(server_url: str, name: str, keep: bool = False) -> Iterator[tuple[str, str]]:
    parsed = make_url(server_url)
    server: Engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        completed = False
        try:
            yield name, parsed.set(database=name).render_as_string(hide_password=False)
            completed = True
        finally:
            if not (keep and completed):
                with server.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


def _with_vhost(broker_url: str, vhost: str) -> str:
    parts = urlsplit(broker_url)
    return urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))


@contextlib.contextmanager
def _vhost(broker_url: str, vhost: str, keep: bool = False) -> Iterator[tuple[str, str]]:
    parts = urlsplit(broker_url)
    user = unquote(parts.username or "guest")
    ctl = shutil.which("rabbitmqctl")
    if ctl is not None and (parts.hostname or "127.0.0.1") in LOCAL_HOSTS:
        _ctl(ctl, "add_vhost", vhost)

        def remove() -> None:
            _ctl(ctl, "delete_vhost", vhost)

        try:
            _ctl(ctl, "set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        except BaseException:
            remove()
            raise
    else:
        remove = management_vhost(broker_url, vhost, user)
    completed = False
    try:
        yield vhost, _with_vhost(broker_url, vhost)
        completed = True
    finally:
        if not (keep and completed):
            remove()


def _ctl(ctl: str, *args: str) -> None:
    done = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ScratchError(f"rabbitmqctl {args[0]} failed: {reason[0]}")


def management_vhost(broker_url: str, vhost: str, user: str) -> Callable[[], None]:
    """Create the vhost through the management API and give `user` every permission on it;
    returns its removal. ScratchError when the API cannot do it."""
    base = management_url(broker_url, os.environ.get("OMS_RABBITMQ_MANAGEMENT_URL"))
    refused = plain_http_refused(broker_url, base)
    if refused is not None:
        raise ScratchError(f"cannot create a vhost of its own: {refused}")
    parts = urlsplit(broker_url)
    session = requests.Session()
    session.auth = (user, unquote(parts.password or "guest"))
    name = quote(vhost, safe="")
    try:
        session.put(f"{base}/api/vhosts/{name}", timeout=10).raise_for_status()
        session.put(
            f"{base}/api/permissions/{name}/{quote(user, safe='')}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
            timeout=10,
        ).raise_for_status()
    except requests.RequestException as error:
        with contextlib.suppress(requests.RequestException):
            session.delete(f"{base}/api/vhosts/{name}", timeout=10)
        raise ScratchError(
            f"cannot create a vhost of its own (no local rabbitmqctl; management API at {base}: "
            f"{type(error).__name__})"
        ) from None

    def remove() -> None:
        session.delete(f"{base}/api/vhosts/{name}", timeout=30).raise_for_status()

    return remove
