"""A simple load to watch on the dashboard: one busy CPU loop per node for a few seconds."""

from __future__ import annotations

import shlex
import threading
from typing import TYPE_CHECKING

from ..results import ClusterResult

if TYPE_CHECKING:
    from ..cluster import Cluster


class Burn(threading.Thread):
    """Runs the loops in the background; ``.result`` is the cluster result once it is done."""

    def __init__(self, cluster: Cluster, *, seconds: float, nodes=None, cores: int = 1):
        super().__init__(daemon=True, name="clusterkit-burn")
        loop = f"{shlex.quote(cluster.python)} -c 'while 1: pass'"
        # ``timeout`` ends each loop even when nobody waits for it.
        self.command = " & ".join([f"timeout {seconds:g} {loop}"] * cores) + " & wait"
        self.cluster, self.nodes, self.seconds = cluster, nodes, seconds
        self.result: ClusterResult | None = None

    def run(self) -> None:
        self.result = self.cluster.run(self.command, nodes=self.nodes, timeout=self.seconds + 10)


def burn(cluster: Cluster, *, seconds: float = 10.0, nodes=None, cores: int = 1) -> Burn:
    """Keep ``cores`` cores of every chosen node busy for ``seconds``, in the background; join() waits."""
    b = Burn(cluster, seconds=seconds, nodes=nodes, cores=cores)
    b.start()
    return b
