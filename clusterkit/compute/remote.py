"""Engines on the lab and on real boards, started over the cluster's own SSH connections.

The controller runs here and listens on the address the nodes reach this
machine by. Each node's engines start on one SSH channel of the connection the
cluster already holds, under a leash (:mod:`.leash`, its ``-`` form) run by the
inventory's Python: the first line sent on the channel gives the engines their
connection info (the controller's key never appears on a command line or on
disk), and the end of the channel ends the engines. So they stop with
``stop()``, and also when the workbook's kernel is killed, since its
connections then drop.

Why not ipyparallel's own ``SSHEngineSetLauncher``: it opens fresh ``ssh``
connections for each step of each node in turn, and passes the connection info
in an ``export`` on the ssh command line. Measured when both were kept
(``benchmarks/bench_engines_lab.py`` before it was dropped, medians of 3 on a
2-core machine): start on 4 lab nodes 21.9 s against 7.1 s here, on 8: 37.3 s
against 10.5 s; stop 9.1 s against 0.8 s; after the starter is killed its
engines lived on for 39 s (until they missed the controller's heartbeats),
these for 6 s.

``write_ssh_config`` is how OpenSSH-based tools (``mpiexec``) reach the nodes:
one ``Host`` block per node (address, port, user, the key, the pinned host
keys), so nothing in ``~/.ssh`` is needed or changed.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ClusterkitError
from ..inventory import Inventory
from .launch import LEASH

if TYPE_CHECKING:
    from ..cluster import Cluster

#: Heartbeats (3 s each) a remote engine may miss before it exits on its own (a backstop: the leash comes first).
HEARTBEAT_MISSES = 10
#: Where a node's engines write their output, relative to the user's home (read when they fail to start).
ENGINE_LOG = ".cache/clusterkit/engines.log"


def write_ssh_config(path: str | Path, inventory: Inventory, *, identity: str | Path, known_hosts: str | Path,
                     connect_timeout: float = 10.0, nodes: list[str] | None = None) -> Path:
    """An ssh config with one ``Host NODE`` block per node, so ``ssh -F PATH pc1`` reaches pc1 with no questions.

    Host keys are checked against ``known_hosts`` (never added blindly);
    ``BatchMode`` makes a missing key fail at once instead of asking for a password.
    """
    lines = ["# Written by clusterkit: how mpiexec reaches the nodes over SSH.", ""]
    for spec in inventory:
        if nodes is not None and spec.name not in nodes:
            continue
        lines += [f"Host {spec.name}", f"    HostName {spec.host}", f"    Port {spec.port}"]
        if spec.user:
            lines.append(f"    User {spec.user}")
        lines += [f"    IdentityFile {Path(identity)}", "    IdentitiesOnly yes",
                  f"    UserKnownHostsFile {Path(known_hosts)}", "    StrictHostKeyChecking yes",
                  "    BatchMode yes", f"    ConnectTimeout {max(1, round(connect_timeout))}", ""]
    target = Path(path)
    target.write_text("\n".join(lines))
    target.chmod(0o600)
    return target


def controller_address(host: str, port: int = 22) -> str:
    """This machine's address on the route to ``host``: where that node can reach the controller.

    A UDP socket's ``connect`` only picks the route; no packet is sent.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((host, port))
        except OSError as e:
            raise ClusterkitError(f"no route to {host}: {e.strerror}", field="controller") from None
        return s.getsockname()[0]


def ssh_options(cluster: Cluster) -> tuple[Path, Path]:
    """The key and known_hosts that the cluster's SSH nodes use (``identity`` and ``known_hosts``)."""
    node = cluster.primary
    identity, known = node.identity, node.known_hosts
    if not identity or not known:
        raise ClusterkitError("SSH engines need a key that the ssh command can use and the nodes' host keys; "
                              "make and install the key first (notebook 03)", node=node.name, field="identity")
    return Path(identity), Path(known)


def controller_for(cluster: Cluster, nodes: list) -> str:
    """The address the nodes reach the controller at (this machine's, on the route to the first node)."""
    first = cluster.inventory[nodes[0].name]
    return controller_address(first.host, first.port)


def controller_addresses(cluster: Cluster, nodes: list) -> dict[str, str]:
    """Each node's way back to this machine: its address on the route to that node. Joined carriers
    (:mod:`clusterkit.carriers`) may reach it at different addresses."""
    return {n.name: controller_address(cluster.inventory[n.name].host, cluster.inventory[n.name].port) for n in nodes}


def engines_command(python: str, *, per_node: int) -> str:
    """The command that starts ``per_node`` engines on a node, on a leash held by the channel's input."""
    engine = shlex.join([python, "-m", "ipyparallel.engine", f"--IPEngine.max_heartbeat_misses={HEARTBEAT_MISSES}",
                         "--log-level=WARN"])
    log = shlex.quote(ENGINE_LOG)
    body = f"mkdir -p {shlex.quote(str(Path(ENGINE_LOG).parent))} && exec >{log} 2>&1; " + \
        " ".join(f"{engine} &" for _ in range(per_node)) + " wait"
    return f"exec {shlex.quote(python)} -c {shlex.quote(Path(LEASH).read_text())} - -- sh -c {shlex.quote(body)}"


class NodeEngines:
    """Engines started on the nodes over the cluster's SSH connections: one leashed channel per node."""

    def __init__(self, cluster: Cluster, nodes: list, *, per_node: int, connection_info: dict,
                 addresses: dict[str, str] | None = None):
        """``addresses``: where each node reaches the controller, when not all at the same address (the
        controller then listens on every interface and each node is told its own)."""
        self.cluster = cluster
        command = engines_command(cluster.python, per_node=per_node)

        def start(node):
            info = dict(connection_info, location=addresses[node.name]) if addresses else connection_info
            stream = node.open_stream(command)
            stream.send(json.dumps({"IPP_CONNECTION_INFO": json.dumps(info), "CLUSTERKIT_NODE": node.name}))
            return stream

        self.started = cluster.each(start, nodes=[n.name for n in nodes], command="start engines")
        self.streams = {name: r.value for name, r in self.started.items() if r.ok}

    @property
    def failed(self) -> dict[str, str]:
        """Nodes whose engines could not be started, and why."""
        return {name: r.error or r.summary() for name, r in self.started.items() if not r.ok}

    def log_tail(self, lines: int = 3) -> str:
        """Why engines may be missing: a leash that ended, and the last lines of each node's engine log."""
        if not self.streams:
            return ""
        shown = [f"  {name}: the engines' leash {stream.reason}" for name, stream in self.streams.items()
                 if stream.reason]
        tails = self.cluster.run(f"tail -n {lines} {shlex.quote(ENGINE_LOG)} 2>/dev/null",
                                 nodes=list(self.streams), timeout=10)
        shown += [f"  {name}: " + " | ".join(r.stdout.strip().splitlines()) for name, r in tails.items()
                  if r.ok and r.stdout.strip()]
        return ("\n" + "\n".join(shown)) if shown else ""

    def stop(self, *, timeout: float = 5.0) -> None:
        """Close every channel: each leash then stops its engines (SIGTERM, then SIGKILL what is left)."""
        streams, self.streams = self.streams, {}
        if streams:
            self.cluster.each(lambda node: streams[node.name].close(timeout=timeout), nodes=list(streams),
                              timeout=timeout, command="stop engines")


def ssh_config_for(cluster: Cluster, nodes: list | None = None) -> Path:
    """The ssh config of ``cluster`` (its ``nodes``, or all), written for OpenSSH-based tools; its path."""
    identity, known = ssh_options(cluster)
    # Named for the user too: /tmp is every user's, and two users' clusters may share a name (their own labs).
    return write_ssh_config(Path(tempfile.gettempdir()) / f"clusterkit-{os.getuid()}-{cluster.name}-ssh_config",
                            cluster.inventory, identity=identity, known_hosts=known,
                            nodes=None if nodes is None else [n.name for n in nodes])


__all__ = ["write_ssh_config", "ssh_config_for", "controller_address", "controller_for", "controller_addresses",
           "engines_command", "NodeEngines", "HEARTBEAT_MISSES", "ENGINE_LOG"]
