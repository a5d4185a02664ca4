"""How engines start on each kind of node: one starter per kind, chosen by its nodes' Platform.

A node's Platform says which way its kind takes (``Platform.start_engines(WAYS)``):
the ways are handed to it, so that the backends import nothing of this layer, and a
kind of node may also bring a starter of its own (anything with :meth:`launch`).

- :data:`HERE`: nodes that are folders of this machine (the local backend). Engines
  run here under ipyparallel's own launchers, one engine set per node, each with
  its node's environment and its sandbox home as working directory; MPI engines
  under one ``mpiexec`` here, one block per node (:mod:`.launch`).
- :data:`OVER_SSH`: nodes reached over SSH (boards, the lab). Engines start on each
  node over the cluster's own SSH connection, on a leash held by that connection
  (:mod:`.remote`); MPI engines under one ``mpiexec`` here that reaches the nodes
  over SSH (:mod:`.mpi`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .launch import EngineSet, LocalEngineSetLauncher, NodeMPIEngineSetLauncher, local_engine_sets, \
    local_mpi_engine_set
from .mpi import ssh_mpi_engine_set
from .remote import controller_addresses

if TYPE_CHECKING:
    from ..cluster import Cluster


@dataclass(frozen=True)
class Launch:
    """How one start of engines goes.

    ``ip`` and ``location``: where the controller listens and where engines are told to reach it.
    ``sets`` are started by ipyparallel with ``launcher`` once the controller runs; ``local_processes``:
    their processes run here (their groups are swept when the engines stop). ``over_connections``:
    engines also start on each node over the cluster's connections, reaching the controller at
    ``addresses[node]`` when the nodes reach it at different addresses (joined carriers).
    """

    ip: str
    location: str = ""
    sets: list[EngineSet] = field(default_factory=list)
    launcher: type = LocalEngineSetLauncher
    local_processes: bool = False
    over_connections: bool = False
    addresses: dict[str, str] | None = None


class Starter(Protocol):
    """A way to start engines on a kind of node."""

    def launch(self, cluster: Cluster, nodes: list, *, per_node: int, mpi: bool) -> Launch:
        """How to start ``per_node`` engines (under ``mpiexec`` when ``mpi``) on ``nodes`` of ``cluster``."""


class Here:
    """Engines on this machine, each standing for its node (the local backend)."""

    def launch(self, cluster: Cluster, nodes: list, *, per_node: int, mpi: bool) -> Launch:
        if mpi:
            return Launch(ip="127.0.0.1", sets=[local_mpi_engine_set(nodes, per_node=per_node)],
                          launcher=NodeMPIEngineSetLauncher, local_processes=True)
        return Launch(ip="127.0.0.1", sets=local_engine_sets(nodes, per_node=per_node),
                      launcher=LocalEngineSetLauncher, local_processes=True)

    def __repr__(self) -> str:
        return "<engines here>"


class OverSSH:
    """Engines on the nodes, started over SSH (boards, the lab)."""

    def launch(self, cluster: Cluster, nodes: list, *, per_node: int, mpi: bool) -> Launch:
        if mpi:   # mpiexec runs here and reaches the nodes over SSH: its process group is this machine's
            engine_set, address = ssh_mpi_engine_set(cluster, nodes, per_node=per_node)
            return Launch(ip=address, location=address, sets=[engine_set], launcher=NodeMPIEngineSetLauncher,
                          local_processes=True)
        addresses = controller_addresses(cluster, nodes)
        first = addresses[nodes[0].name]
        if len(set(addresses.values())) > 1:   # joined carriers: one controller, reached at several addresses
            return Launch(ip="0.0.0.0", location=first, over_connections=True, addresses=addresses)
        return Launch(ip=first, location=first, over_connections=True)

    def __repr__(self) -> str:
        return "<engines over SSH>"


HERE = Here()
OVER_SSH = OverSSH()


@dataclass(frozen=True)
class Ways:
    """The ways to start engines that a node's Platform chooses from (``Platform.start_engines``)."""

    here: Here = HERE
    over_ssh: OverSSH = OVER_SSH


WAYS = Ways()


__all__ = ["Starter", "Launch", "Here", "OverSSH", "HERE", "OVER_SSH", "Ways", "WAYS"]
