"""Reaching a node another way (a new address, another login), and saving that to the inventory file.

:func:`node_at` makes a node for a spec on the cluster's backend (a probe at a
new address, a read through another login); the cluster swaps such nodes in
itself (:meth:`Cluster.reconnect`). :func:`save_inventory` rewrites the
inventory file (atomically, the old one kept as ``.clusterkit.bak``) when asked,
so a later ``clusterkit.connect()`` reaches the nodes the new way too. The
packaged default inventory is never rewritten.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..atomicfile import write_atomic
from ..backends.base import BACKUP_SUFFIX, Node
from ..inventory import DEFAULT_INVENTORY, Inventory, NodeSpec

if TYPE_CHECKING:
    from ..cluster import Cluster


def node_at(cluster: Cluster, spec: NodeSpec) -> Node:
    """A fresh Node for ``spec`` (say, a node's new address or login) on the cluster's backend."""
    return cluster.node_for(spec)


def save_inventory(inventory: Inventory) -> Path | None:
    """Rewrite a YAML inventory file with the inventory's current nodes; None when there is no file to rewrite."""
    path = Path(inventory.source)
    if not path.is_file() or path.suffix not in (".yaml", ".yml") or path.resolve() == DEFAULT_INVENTORY.resolve():
        return None
    data = inventory.to_dict(include_password=inventory.password is not None)
    text = ("# Rewritten by clusterkit after a setup step changed how nodes are reached.\n"
            + yaml.safe_dump(data, sort_keys=False))
    shutil.copy2(path, str(path) + BACKUP_SUFFIX)
    write_atomic(path, text, mode=path.stat().st_mode & 0o777)
    return path
