"""Backends: three ways to reach nodes behind one :class:`Node` interface.

| backend | where | what is real |
| ``ssh`` | real boards | everything |
| ``lab`` | namespaces with real sshd on one Linux host | SSH, users, addresses, keys, services |
| ``local`` | no root (Binder, a locked-down laptop) | compute; setup steps render into sandboxes |
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ClusterkitError
from ..inventory import Inventory
from .base import Node
from .local import LocalNode, default_sandbox_root

NAMES = ("auto", "local", "lab", "ssh")


def resolve(name: str, inventory: Inventory) -> str:
    """The concrete backend for ``name`` ("auto" picks one and never fails)."""
    if name not in NAMES:
        raise ClusterkitError(f"{name!r} is not a backend; choose one of {', '.join(NAMES)}", field="backend")
    if name != "auto":
        return name
    if inventory.backend != "auto":
        return inventory.backend
    from ..lab.backend import auto_choice
    return auto_choice(inventory) or "local"


def inventory_for(backend: str, inventory: Inventory) -> Inventory:
    """The inventory the nodes really have on ``backend``: on the lab, the running lab's own (up when needed)."""
    if backend == "lab":
        from ..lab.backend import lab_inventory
        return lab_inventory(inventory)
    return inventory


def make_nodes(backend: str, inventory: Inventory, *, sandbox: Path | None = None,
               connect_timeout: float = 10.0) -> dict[str, Node]:
    """One Node per inventory node, on a concrete backend."""
    if backend == "local":
        root = (sandbox or default_sandbox_root()) / inventory.name
        return {s.name: LocalNode(s, root=root / s.name) for s in inventory}
    if backend == "lab":
        from ..lab.backend import make_lab_nodes
        return make_lab_nodes(inventory, connect_timeout=connect_timeout)
    if backend == "ssh":
        from .ssh import make_ssh_nodes
        return make_ssh_nodes(inventory, connect_timeout=connect_timeout)
    raise ClusterkitError(f"the {backend} backend is not available in this version", field="backend")


__all__ = ["Node", "LocalNode", "NAMES", "resolve", "inventory_for", "make_nodes"]
