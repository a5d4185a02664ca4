"""Which engine runs on which node: asked of every engine, never assumed from the start order."""

from __future__ import annotations

import html
import os
import socket
from dataclasses import dataclass

from ClusterShell.NodeSet import NodeSet


def identity() -> dict:
    """Who the engine calling this is: its node, host name, pid, cores and MPI rank.

    Runs on the engines. The node is ``$CLUSTERKIT_NODE`` where clusterkit set it
    (local engines stand for a node they do not run on; SSH engines get it too, so
    boards that still all answer ``raspberrypi`` are told apart), else the host name.
    """
    rank = os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK")
    return {"node": os.environ.get("CLUSTERKIT_NODE") or socket.gethostname(), "host": socket.gethostname(),
            "pid": os.getpid(), "cores": os.cpu_count() or 1, "rank": int(rank) if rank else None}


@dataclass(frozen=True)
class EngineInfo:
    """One engine: its id in the client, the node it runs for, its process and the cores it sees."""

    id: int
    node: str
    pid: int
    cores: int
    host: str = ""
    rank: int | None = None


@dataclass(frozen=True)
class EngineMap:
    """The engines of each node, in inventory order; shown as a table (node, engine ids, cores)."""

    engines: tuple[EngineInfo, ...]
    nodes: tuple[str, ...]

    @classmethod
    def from_answers(cls, answers: dict[int, dict], nodes: list[str]) -> "EngineMap":
        """Build the map from each engine's :func:`identity` answer, keyed by engine id."""
        infos = tuple(EngineInfo(id=eid, node=a["node"], pid=a["pid"], cores=a["cores"], host=a.get("host", ""),
                                 rank=a.get("rank")) for eid, a in sorted(answers.items()))
        extra = [i.node for i in infos if i.node not in nodes]
        return cls(engines=infos, nodes=tuple(nodes) + tuple(dict.fromkeys(extra)))

    def ids(self, node: str) -> list[int]:
        """Engine ids on ``node`` (empty when it has none)."""
        return [e.id for e in self.engines if e.node == node]

    def node(self, engine_id: int) -> str | None:
        """The node engine ``engine_id`` runs for (None for an engine not in the map)."""
        return next((e.node for e in self.engines if e.id == engine_id), None)

    @property
    def pids(self) -> dict[str, list[int]]:
        """Engine process ids by node, e.g. for :meth:`clusterkit.dashboard.Dashboard.watch`."""
        return {n: [e.pid for e in self.engines if e.node == n] for n in self.nodes if self.ids(n)}

    @property
    def empty_nodes(self) -> NodeSet:
        """Nodes that have no engine."""
        return NodeSet.fromlist([n for n in self.nodes if not self.ids(n)])

    def rows(self) -> list[tuple[str, list[int], int | None]]:
        """(node, engine ids, cores) for every node, in inventory order."""
        out = []
        for n in self.nodes:
            mine = [e for e in self.engines if e.node == n]
            out.append((n, [e.id for e in mine], mine[0].cores if mine else None))
        return out

    def __len__(self) -> int:
        return len(self.engines)

    def text(self) -> str:
        rows = [("node", "engines", "cores")] + [
            (n, ",".join(map(str, ids)) or "-", "-" if c is None else str(c)) for n, ids, c in self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<EngineMap {len(self.engines)} engines on {NodeSet.fromlist([e.node for e in self.engines])}>"

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td><code>{html.escape(n)}</code></td><td>{html.escape(', '.join(map(str, ids)) or '—')}</td>"
            f"<td>{'—' if c is None else c}</td></tr>" for n, ids, c in self.rows())
        return ("<table><thead><tr><th>node</th><th>engines</th><th>cores</th></tr></thead>"
                f"<tbody>{body}</tbody></table>")
