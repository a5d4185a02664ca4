"""Workers boot to text mode (``multi-user.target``), the primary keeps its desktop (``graphical.target``).

A board without a screen has no use for a desktop that takes memory and CPU
from the computations. The default target is a symlink,
``/etc/systemd/system/default.target``, that ``systemctl set-default`` points
at a unit; with no link, systemd boots ``graphical.target``. The step reads it
back with ``systemctl get-default``, as the node's platform reads it (on the
local backend, the link in the sandbox). There the link is made as
``set-default`` would make it, and the command is listed as "would run".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backends.platform import DEFAULT_TARGET as LINK, SYSTEMD_DEFAULT  # noqa: F401 (ops.boot gives it)
from ..results import NodeResult
from .actions import Link
from .base import NodePlan, Reader, Step, StepError

if TYPE_CHECKING:
    from ..cluster import Cluster

UNITS = "/lib/systemd/system"
TARGETS = ("multi-user.target", "graphical.target")


class BootTarget(Step):
    """The default boot target: ``workers`` on every worker, ``primary`` on the primary."""

    title = "boot target"

    def __init__(self, cluster: Cluster, *, workers: str = "multi-user.target", primary: str = "graphical.target",
                 nodes=None):
        super().__init__(cluster, nodes=nodes)
        self.targets = {"workers": workers, "primary": primary}

    def __repr__(self) -> str:
        return f"<BootTarget workers={self.targets['workers']} primary={self.targets['primary']} on {self.where}>"

    def wanted(self, node: str) -> str:
        return self.targets["primary" if node == self.cluster.inventory.primary else "workers"]

    def validate(self) -> None:
        for fld, target in self.targets.items():
            if target not in TARGETS:
                raise StepError(f"{target!r} is not a boot target here ({' or '.join(TARGETS)})",
                                node=self.where if fld == "workers" else self.cluster.inventory.primary, field=fld)

    def read(self, node, reader: Reader) -> str:
        return current_target(node)

    def node_plan(self, node, state: str, states) -> NodePlan:
        plan = NodePlan(node.name)
        want = self.wanted(node.name)
        if state != want:
            why = "text mode: no desktop on a board without a screen" if want == TARGETS[0] else "keep the desktop"
            plan.actions.append(Link(f"systemctl set-default {want}", why, link=LINK, target=f"{UNITS}/{want}"))
            plan.notes.append(f"boots {state} now")
        return plan

    def verify_node(self, node) -> str | None:
        got = current_target(node)
        if got != self.wanted(node.name):
            raise StepError(f"boots {got}, not {self.wanted(node.name)}", node=node.name, field="target")
        return f"systemctl get-default: {got}"

    def read_back(self):
        """``systemctl get-default`` on every node (gathered: one block per target)."""
        return defaults(self.cluster, nodes=self.names)


def current_target(node) -> str:
    """``systemctl get-default`` on a node, as its platform reads it."""
    r = node.platform.boot_target(node)
    if not r.ok or not r.stdout.strip():
        raise StepError(f"systemctl get-default failed: {r.summary()}", node=node.name, field="target")
    return r.stdout.strip()


def defaults(cluster: Cluster, *, nodes=None):
    """Each node's default target as a cluster result (the gathered view folds nodes that agree)."""
    def one(node):
        t = current_target(node)
        return NodeResult.done(node.name, t, stdout=t + "\n", command="systemctl get-default")
    return cluster.each(one, nodes=nodes, command="systemctl get-default")
