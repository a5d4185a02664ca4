"""Computing on the cluster: ipyparallel engines on every node, and MPI.

``cluster.engines(per_node=1)`` gives :class:`Engines`; workloads to run on them
are in :mod:`clusterkit.workloads`.
"""

from .enginemap import EngineInfo, EngineMap, identity
from .engines import ComputeError, Engines

__all__ = ["Engines", "EngineMap", "EngineInfo", "ComputeError", "identity"]
