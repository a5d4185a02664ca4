"""Reaching a node another way (a new address, another login) and switching the cluster over to it."""

from __future__ import annotations

from dataclasses import replace

from .. import backends
from ..backends.base import Node
from ..inventory import NodeSpec


def node_at(cluster, spec: NodeSpec) -> Node:
    """A fresh Node for ``spec`` (say, a node's new address or login) on the cluster's backend."""
    one = replace(cluster.inventory, nodes={spec.name: spec}, primary=spec.name)
    sandbox = None
    node = cluster.nodes.get(spec.name)
    if getattr(node, "root", None) is not None:
        sandbox = node.root.parent.parent
    made = backends.make_nodes(cluster.backend, one, sandbox=sandbox, connect_timeout=cluster.connect_timeout)
    return made[spec.name]


def switch(cluster, specs: list[NodeSpec]) -> None:
    """Point the cluster's inventory and nodes at new specs (once they are known to answer)."""
    if not specs:
        return
    cluster.inventory = cluster.inventory.with_nodes(specs)
    for spec in specs:
        old = cluster.nodes[spec.name]
        cluster.nodes[spec.name] = node_at(cluster, spec)
        old.close()
