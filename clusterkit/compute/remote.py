"""Engines on the lab and on real boards: ipyparallel's own SSH launcher, configured from the inventory.

The controller runs here and listens on the address the nodes reach this
machine by; each node's engines are started over SSH with the inventory's
Python. ``ssh`` reads a config file that clusterkit writes (one ``Host`` block
per node: address, port, user, the key, the pinned host keys), so nothing in
``~/.ssh`` is needed or changed.

Engines on a node outlive a killed workbook only until they miss the
controller's heartbeats (``HEARTBEAT_MISSES`` × 3 s): the controller itself
is leashed to this process, so it ends at once and the engines follow.
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

from ipyparallel.cluster.launcher import SSHEngineSetLauncher

from ..errors import ClusterkitError
from ..inventory import Inventory
from .launch import EngineSet

#: Heartbeats (3 s each) a remote engine may miss before it exits on its own.
HEARTBEAT_MISSES = 10


def write_ssh_config(path: str | Path, inventory: Inventory, *, identity: str | Path, known_hosts: str | Path,
                     connect_timeout: float = 10.0, nodes: list[str] | None = None) -> Path:
    """An ssh config with one ``Host NODE`` block per node, so ``ssh -F PATH pc1`` reaches pc1 with no questions.

    Host keys are checked against ``known_hosts`` (never added blindly);
    ``BatchMode`` makes a missing key fail at once instead of asking for a password.
    """
    lines = ["# Written by clusterkit: how ipyparallel and mpiexec reach the nodes over SSH.", ""]
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


def ssh_engine_config(inventory: Inventory, nodes: list[str], *, per_node: int, ssh_config: str | Path) -> dict:
    """Settings for ipyparallel's ``SSHEngineSetLauncher``: per node its engine count and command.

    Each engine is started as ``env CLUSTERKIT_NODE=NODE PYTHON -m ipyparallel.engine``,
    so it knows its node even on boards that all still answer ``raspberrypi``.
    """
    python = inventory.python
    engines = {name: {"n": per_node, "engine_cmd": ["env", f"CLUSTERKIT_NODE={name}", python, "-m",
                                                    "ipyparallel.engine"]} for name in nodes}
    ssh = ["-F", str(ssh_config)]
    return {"engines": engines, "remote_python": python, "ssh_args": list(ssh), "scp_args": list(ssh),
            "engine_args": [f"--IPEngine.max_heartbeat_misses={HEARTBEAT_MISSES}", "--log-level=WARN"]}


def ssh_options(cluster) -> tuple[Path, Path]:
    """The key and known_hosts that the cluster's SSH nodes use (``identity`` and ``known_hosts``)."""
    node = cluster.primary
    identity, known = getattr(node, "identity", None), getattr(node, "known_hosts", None)
    if not identity or not known:
        raise ClusterkitError("SSH engines need a key that the ssh command can use and the nodes' host keys; "
                              "make and install the key first (notebook 03)", node=node.name, field="identity")
    return Path(identity), Path(known)


def ssh_engine_sets(cluster, nodes: list, *, per_node: int, mpi: bool) -> tuple[list[EngineSet], type, dict]:
    """The engine set, launcher class and controller address for engines over SSH."""
    if mpi:
        raise ClusterkitError("MPI across nodes runs with mpiexec over SSH (clusterkit.compute.mpi), "
                              "not as ipyparallel engines", field="mpi")
    identity, known = ssh_options(cluster)
    config = Path(tempfile.gettempdir()) / f"clusterkit-{cluster.name}-ssh_config"
    write_ssh_config(config, cluster.inventory, identity=identity, known_hosts=known,
                     nodes=[n.name for n in nodes])
    first = cluster.inventory[nodes[0].name]
    address = controller_address(first.host, first.port)
    launcher = ssh_engine_config(cluster.inventory, [n.name for n in nodes], per_node=per_node, ssh_config=config)
    return ([EngineSet(id="ssh", n=per_node * len(nodes), launcher=launcher)], SSHEngineSetLauncher,
            {"ip": address, "location": address})


__all__ = ["write_ssh_config", "controller_address", "ssh_engine_config", "ssh_engine_sets", "HEARTBEAT_MISSES"]
