"""The ``lab`` backend: lab nodes reached through the SSH backend's own code.

``auto`` picks the lab for the packaged default inventory when a lab of that
name runs here, or when this machine can run one (it is then brought up);
an inventory that a lab wrote (``backend: lab``) always means the lab.
"""

from __future__ import annotations

from pathlib import Path

from ..backends.registry import Backend
from ..backends.ssh import SSHNode, make_ssh_nodes
from ..errors import ClusterkitError
from ..inventory import DEFAULT_INVENTORY, Inventory, load_inventory
from . import check, find, kinds, up
from .net import DEFAULT_CLUSTER_NETWORK


class LabNode(SSHNode):
    """A lab node: the SSH backend's code, on a node of the lab. What it has of its own (its traits) and how it
    does what a step wants (its platform) are its lab's kind's (:class:`clusterkit.lab.kinds.LabKind`)."""

    backend = "lab"


def _kind(inventory: Inventory) -> kinds.LabKind:
    """The kind of the lab whose inventory this is (from the ``lab.json`` beside it)."""
    return kinds.of(Path(inventory.source).parent)


def _is_lab_inventory(inventory: Inventory) -> bool:
    return inventory.backend == "lab" and Path(inventory.source).with_name("lab.json").is_file()


def known_hosts_for(inventory: Inventory) -> Path:
    """The lab's known_hosts, beside its inventory: it holds every node's host key from the start."""
    path = Path(inventory.source).with_name("known_hosts")
    if path.is_file():
        return path
    lab = find(inventory.name)
    if lab is None:
        raise ClusterkitError(f"no lab {inventory.name} on this host (`sudo clusterkit lab up`)", field="backend")
    return lab.known_hosts_path


class LabBackend(Backend):
    """Namespaces on this host, each a node with its own sshd, reached like boards; the host can bind between
    them (the workers' share)."""

    name = "lab"
    agent_scope = "pidns"     # a lab node's PID namespace holds only its own processes
    agent_leds = "virtual"

    def why_not(self, inventory: Inventory) -> str | None:
        if _is_lab_inventory(inventory):
            return None
        lab = find(inventory.name)
        if lab is not None and lab.running:
            return None
        why = check.reason()
        return None if why is None else f"no lab {inventory.name} is up and this machine cannot start one: {why}"

    def claims(self, inventory: Inventory) -> bool:
        if _is_lab_inventory(inventory):
            return True
        return Path(inventory.source) == DEFAULT_INVENTORY and self.why_not(inventory) is None

    def inventory_for(self, inventory: Inventory, *, timeout: float = 60.0) -> Inventory:
        """The inventory of the lab behind ``inventory``: its own when a lab wrote it, else the running lab of
        that name (brought up with as many nodes when this machine can, and none runs)."""
        if _is_lab_inventory(inventory):
            return inventory
        lab = find(inventory.name)
        if lab is None or not lab.running:
            why = self.why_not(inventory)
            if why is not None:
                raise ClusterkitError(why, field="backend")
            expected = [f"{inventory.name}{i}" for i in range(len(inventory))]
            if list(inventory.nodes) != expected:
                raise ClusterkitError(f"a lab's nodes are named {inventory.name}0, {inventory.name}1, …; "
                                      f"this inventory has {inventory.nodeset}", field="nodes")
            network = inventory.network
            lab = up(n=len(inventory), name=inventory.name, timeout=timeout,
                     network=None if network in (None, DEFAULT_CLUSTER_NETWORK) else str(network))
        return load_inventory(lab.inventory_path)

    def make_nodes(self, inventory: Inventory, *, connect_timeout: float, sandbox: Path | None = None) -> dict:
        """One SSH node per lab node, trusting the host keys the lab made, logging in with the workshop password.

        The host's own ``~/.ssh`` (config, keys, agent) plays no part: a lab is the same for everyone.
        """
        kind = _kind(inventory)
        nodes = make_ssh_nodes(inventory, connect_timeout=connect_timeout, known_hosts=known_hosts_for(inventory),
                               node_class=LabNode, ssh_config=False)
        for node in nodes.values():
            node.traits, node.platform = kind.traits, kind.platform
        return nodes

    def reboot_timeout(self, inventory: Inventory) -> float:
        """Virtual boards under TCG (no hardware virtualisation) boot in minutes, not seconds."""
        return 900.0 if _kind(inventory).emulated() else self.reboot_seconds

    def engine_timeout(self, inventory: Inventory) -> float:
        """Under TCG every board starts Python, numpy and ipyparallel on an emulated CPU, all of them at once on
        this host's cores: measured 0.5-2 min for 4 boards on 2 cores, so the wait is 10 min."""
        return 600.0 if _kind(inventory).emulated() else self.engine_seconds

    def scope_of(self, node) -> str:
        """A virtual board is a whole machine: its agent counts every process on it."""
        return "host" if node.traits.own_kernel else self.agent_scope

    def host_bind(self, inventory: Inventory, *, source: str, path: str, target_node: str, target: str) -> None:
        """The lab's kernel has no NFS client: the host binds the primary's export into the worker
        (:mod:`clusterkit.lab.share`)."""
        from .share import bind_between
        bind_between(inventory, source=source, path=path, target_node=target_node, target=target)


LAB = LabBackend()


__all__ = ["LAB", "LabBackend", "LabNode", "known_hosts_for"]
