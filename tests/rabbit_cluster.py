"""Three RabbitMQ nodes on loopback, clustered, for the quorum drill (spec 13). Each node has its
own node name, AMQP and distribution ports, data and log directories and config in a temporary
directory; no plugins (so no management or Prometheus port to collide with). They share the
machine's Erlang cookie (/var/lib/rabbitmq/.erlang.cookie: the nodes run as the rabbitmq user
with that HOME, as Debian's rabbitmq-server does) and its epmd. The machine's own node
(rabbit@localhost on 5672) is never addressed: every command names a drill node."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import unavailable

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
HOME = "/var/lib/rabbitmq"  # the rabbitmq user's home: its .erlang.cookie


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Node:
    name: str  # oms-drill-…-a@localhost
    port: int
    dist_port: int
    base: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}"


class Cluster:
    def __init__(self, root: Path, nodes: list[Node], as_root: bool):
        self.root = root
        self.nodes = nodes
        self.as_root = as_root

    def _user(self) -> tuple[int | None, int | None, list[int] | None]:
        """(user, group, extra groups) to run as: the rabbitmq user's, when we are root."""
        if not self.as_root:
            return None, None, None
        account = pwd.getpwnam("rabbitmq")
        return account.pw_uid, account.pw_gid, []

    def _env(self, node: Node) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": HOME,
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(node.port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(node.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(node.base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(node.base / "env.conf"),
            "RABBITMQ_PID_FILE": str(node.base / "pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def ctl(self, node: Node, *args: str, timeout: float = 60) -> str:
        user, group, extra = self._user()
        done = subprocess.run(
            [CTL, "-q", "-n", node.name, *args],
            env=self._env(node), capture_output=True, text=True, timeout=timeout,
            cwd=HOME, user=user, group=group, extra_groups=extra,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl -n {node.name} {' '.join(args)}: {done.stderr[-400:]}")
        return done.stdout

    def start(self, node: Node) -> None:
        user, group, extra = self._user()
        with open(node.base / "server.out", "ab") as log:
            node.process = subprocess.Popen(
                [SERVER], env=self._env(node), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=HOME, user=user, group=group, extra_groups=extra,
            )  # fmt: skip

    def await_up(self, node: Node, timeout: float = 90) -> None:
        """Until the node answers (await_startup gives up on a node epmd does not know yet)."""
        deadline = time.monotonic() + timeout
        while True:
            if node.process is not None and node.process.poll() is not None:
                out = (node.base / "server.out").read_text(errors="replace")[-600:]
                raise RuntimeError(f"{node.name} exited at start: {out}")
            try:
                self.ctl(node, "await_startup", "--timeout", "30", timeout=40)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def kill(self, node: Node) -> None:
        """The node dies at once (SIGKILL to its process group: beam and its helpers)."""
        if node.process is not None and node.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(30)
        node.process = None

    def running_nodes(self, via: Node) -> list[str]:
        out = self.ctl(via, "eval", "rabbit_nodes:all_running().")
        return sorted(n for n in out.replace("[", " ").replace("]", " ").replace("'", " ")
                      .replace(",", " ").split() if "@" in n)  # fmt: skip


@contextlib.contextmanager
def cluster_of_three() -> Iterator[Cluster]:
    if not (os.path.exists(SERVER) and os.path.exists(CTL)):
        unavailable("RabbitMQ", FileNotFoundError(SERVER), "is not installed (rabbitmq-server)")
    as_root = os.geteuid() == 0
    if not as_root and pwd.getpwuid(os.geteuid()).pw_name != "rabbitmq":
        unavailable("RabbitMQ drill nodes", PermissionError("not root"), "cannot run as rabbitmq")
    root = Path(tempfile.mkdtemp(prefix="oms-rabbit-cluster-"))
    tag = uuid.uuid4().hex[:6]
    nodes = []
    for letter in "abc":
        base = root / letter
        (base / "mnesia").mkdir(parents=True)
        (base / "log").mkdir()
        (base / "enabled_plugins").write_text("[].\n")
        port = _free_port()
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n"
            "cluster_partition_handling = pause_minority\n"
        )
        (base / "env.conf").write_text("")
        nodes.append(Node(f"oms-drill-{tag}-{letter}@localhost", port, _free_port(), base))
    cluster = Cluster(root, nodes, as_root)
    if as_root:
        os.chmod(root, 0o755)
        account = pwd.getpwnam("rabbitmq")
        for path in [root, *root.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
    try:
        for node in nodes:
            cluster.start(node)
        for node in nodes:
            cluster.await_up(node)
        first = nodes[0]
        for node in nodes[1:]:
            cluster.ctl(node, "stop_app")
            cluster.ctl(node, "join_cluster", first.name)
            cluster.ctl(node, "start_app")
        deadline = time.monotonic() + 60
        while len(cluster.running_nodes(first)) < 3:
            if time.monotonic() > deadline:
                raise RuntimeError("the three drill nodes did not form a cluster")
            time.sleep(0.5)
        yield cluster
    finally:
        for node in nodes:
            cluster.kill(node)
        shutil.rmtree(root, ignore_errors=True)
