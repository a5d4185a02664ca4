"""clusterkit: from a box of boards to a working small cluster, then computing on it."""

from __future__ import annotations

import os
from pathlib import Path

from . import backends
from .cluster import DEFAULT_CONNECT_TIMEOUT, DEFAULT_FANOUT, Cluster
from .errors import ClusterError, ClusterkitError, InventoryError, NodeError, PrivilegeRefused
from .inventory import Inventory, NodeSpec, load_inventory
from .results import ClusterResult, NodeResult

__version__ = "0.1.0"


def connect(inventory: str | os.PathLike | Inventory | None = None, *, backend: str | None = None,
            fanout: int = DEFAULT_FANOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
            command_timeout: float | None = None, sandbox: str | os.PathLike | None = None) -> Cluster:
    """A cluster for an inventory on a backend.

    ``inventory``: a path or an :class:`Inventory`; else ``$CLUSTERKIT_INVENTORY``;
    else the packaged four-node default. ``backend``: "local", "lab", "ssh" or
    "auto"; else ``$CLUSTERKIT_BACKEND``; else "auto". ``sandbox``: where the
    local backend keeps its nodes' directories (default ``$CLUSTERKIT_SANDBOX``
    or ``~/.cache/clusterkit/sandbox``).
    """
    inv = inventory if isinstance(inventory, Inventory) else load_inventory(inventory)
    kind = backends.resolve(backend or os.environ.get("CLUSTERKIT_BACKEND") or "auto", inv)
    inv = kind.inventory_for(inv)
    root = Path(sandbox) if sandbox else None
    nodes = kind.make_nodes(inv, sandbox=root, connect_timeout=connect_timeout)
    return Cluster(inv, nodes, backend=kind, fanout=fanout, connect_timeout=connect_timeout,
                   command_timeout=command_timeout, sandbox=root)

__all__ = [
    "connect", "Cluster", "Inventory", "NodeSpec", "load_inventory", "ClusterResult", "NodeResult",
    "ClusterkitError", "ClusterError", "InventoryError", "NodeError", "PrivilegeRefused", "__version__",
]
