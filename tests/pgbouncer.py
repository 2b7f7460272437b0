"""A real PgBouncer in transaction pooling mode for the tests (spec 13): Debian's `pgbouncer`
(installed by .ci/run when missing), started on a free loopback port with its own ini and auth
file (trust) in a temporary directory, in front of the tests' PostgreSQL, and stopped after."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from tests.services import POSTGRES_SERVER, unavailable


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def pgbouncer(pool_size: int = 4) -> Iterator[int]:
    """Yields the port. `pool_size` server connections per database and user: fewer than the
    clients the tests open, so a transaction's server connection is rarely its session's."""
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
    )
    if binary is None:
        unavailable("PgBouncer", FileNotFoundError("pgbouncer"), "is not installed (apt pgbouncer)")
    server = urlsplit(POSTGRES_SERVER)
    port = _free_port()
    home = Path(tempfile.mkdtemp(prefix="oms-pgbouncer-"))
    user = server.username or "postgres"
    (home / "users.txt").write_text(f'"{user}" ""\n')
    (home / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.hostname or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {home}/users.txt\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = 1000\n"
        f"logfile = {home}/pgbouncer.log\npidfile = {home}/pgbouncer.pid\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    argv = [binary]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: as the postgres user then
        account = pwd.getpwnam("postgres")
        os.chmod(home, 0o755)
        for path in [home, *home.iterdir()]:
            os.chown(path, account.pw_uid, account.pw_gid)
        argv += ["-u", "postgres"]
    process = subprocess.Popen(
        [*argv, str(home / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (
                    (home / "pgbouncer.log").read_text()
                    if (home / "pgbouncer.log").exists()
                    else ""
                )
                unavailable(
                    "PgBouncer", RuntimeError(log[-500:] or "did not listen"), "did not start"
                )
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(home, ignore_errors=True)


def through(port: int, direct_url: str) -> str:
    """The same database URL, through the pooler on `port`."""
    parts = urlsplit(direct_url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host).geturl()
