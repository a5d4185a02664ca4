"""What a step raises: :class:`StepError` before it touches a node, :class:`ReadError` when it cannot read some."""

from __future__ import annotations

from ClusterShell.NodeSet import NodeSet

from ..errors import ClusterkitError
from ..results import ClusterResult


class StepError(ClusterkitError):
    """A step refused its input, or found the nodes in a state it cannot work from.

    Raised before any node is touched; ``node`` and ``field`` say where.
    """


class ReadError(StepError):
    """``plan()`` could not read some nodes. Raised after every node was read, like fabric's GroupException:
    ``result`` holds every node's row (those read too); the message names each failed node, nodes that failed
    alike folded (``pc[1-2]``), the first few reasons and then "… N more"."""

    shown = 3

    def __init__(self, result: ClusterResult):
        self.result = result
        alike: dict[str, list[str]] = {}
        for n, r in result.failed.items():
            alike.setdefault(r.summary(), []).append(n)
        nodes = str(NodeSet.fromlist(list(result.failed)))
        if len(alike) == 1:
            (why, _), = alike.items()
            message = f"cannot read {'this node' if len(result.failed) == 1 else 'these nodes'}: {why}"
        else:
            parts = [f"{NodeSet.fromlist(ns)}: {why}" for why, ns in list(alike.items())[:self.shown]]
            more = len(alike) - self.shown
            message = (f"cannot read {len(result.failed)} of {len(result)} nodes: " + "; ".join(parts) +
                       (f"; … {more} more" if more > 0 else ""))
        super().__init__(message, node=nodes, field="read")


__all__ = ["StepError", "ReadError"]
