"""Which engine runs on which node: asked of every engine, never assumed from the start order."""

from __future__ import annotations

import html
import os
import socket
import sys
from dataclasses import dataclass

from ClusterShell.NodeSet import NodeSet

from ..results import html_block


BOOT_ID = "/proc/sys/kernel/random/boot_id"


def machine_id() -> str:
    """Which running kernel this is (Linux's boot id): equal on two nodes exactly when they share one machine,
    as lab nodes (namespaces of one host) and local-backend nodes do; "" where it cannot be read."""
    try:
        with open(BOOT_ID) as f:
            return f.read().strip()
    except OSError:
        return ""


def identity() -> dict:
    """Who the engine calling this is: its node, host name, pid, cores, MPI rank and machine (:func:`machine_id`).

    Runs on the engines. The node is ``$CLUSTERKIT_NODE`` where clusterkit set it
    (local engines stand for a node they do not run on; SSH engines get it too, so
    boards that still all answer ``raspberrypi`` are told apart), else the host name.
    """
    rank = os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK")
    return {"node": os.environ.get("CLUSTERKIT_NODE") or socket.gethostname(), "host": socket.gethostname(),
            "pid": os.getpid(), "cores": os.cpu_count() or 1, "rank": int(rank) if rank else None,
            "machine": machine_id(), "python": "%d.%d" % sys.version_info[:2]}


@dataclass(frozen=True)
class EngineInfo:
    """One engine: its id in the client, the node it runs for, its process and the cores it sees."""

    id: int
    node: str
    pid: int
    cores: int
    host: str = ""
    rank: int | None = None
    machine: str = ""  #: the kernel it runs on (:func:`machine_id`); "" when not known


@dataclass(frozen=True)
class EngineMap:
    """The engines of each node, in inventory order; shown as a table (node, how many engines, their ids, cores)."""

    engines: tuple[EngineInfo, ...]
    nodes: tuple[str, ...]

    @classmethod
    def from_answers(cls, answers: dict[int, dict], nodes: list[str]) -> "EngineMap":
        """Build the map from each engine's :func:`identity` answer, keyed by engine id."""
        infos = tuple(EngineInfo(id=eid, node=a["node"], pid=a["pid"], cores=a["cores"], host=a.get("host", ""),
                                 rank=a.get("rank"), machine=a.get("machine", "")) for eid, a in sorted(answers.items()))
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

    @property
    def machines(self) -> dict[str, list[str]]:
        """Nodes grouped by the machine (running kernel) their engines run on; engines that could not tell are left out."""
        out: dict[str, list[str]] = {}
        for e in self.engines:
            if e.machine and e.node not in out.setdefault(e.machine, []):
                out[e.machine].append(e.node)
        return out

    @property
    def shared_cores(self) -> int | None:
        """The cores every engine really shares when all of them run on one machine (lab, local backend), else None."""
        machines = self.machines
        nodes = {e.node for e in self.engines}
        if len(machines) == 1 and len(nodes) > 1 and len(next(iter(machines.values()))) == len(nodes):
            return self.engines[0].cores
        return None

    @property
    def note(self) -> str:
        """One line for the reader when several nodes are one machine: their cores are not theirs alone."""
        lines = []
        here = machine_id()
        for machine, nodes in self.machines.items():
            if len(nodes) < 2:
                continue
            cores = next(e.cores for e in self.engines if e.machine == machine)
            where = "this machine" if machine == here else "one machine"
            lines.append(f"{NodeSet.fromlist(nodes)} run on {where} (one kernel): the {cores} cores shown are "
                         f"shared by all {len(nodes)} nodes, not {cores} each, so more engines than {cores} "
                         "only share them")
        return "; ".join(lines)

    #: The table's columns: how many engines a node has, then their ids (the ``view(...)`` targets), then its cores.
    #: A count and the ids stay apart: an id is a name, and "pc1 … 0" must never read as "no engines on pc1".
    COLUMNS = ("node", "engines", "engine ids", "cores")

    def text(self) -> str:
        rows = [self.COLUMNS] + [
            (n, str(len(ids)), ",".join(map(str, ids)) or "-", "-" if c is None else str(c))
            for n, ids, c in self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.COLUMNS))]
        table = "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)
        return table + (f"\n{self.note}" if self.note else "")

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<EngineMap {len(self.engines)} engines on {NodeSet.fromlist([e.node for e in self.engines])}>"

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td><code>{html.escape(n)}</code></td><td>{len(ids)}</td>"
            f"<td>{html.escape(', '.join(map(str, ids)) or '—')}</td>"
            f"<td>{'—' if c is None else c}</td></tr>" for n, ids, c in self.rows())
        note = f"<div><i>{html.escape(self.note)}</i></div>" if self.note else ""
        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        return html_block(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}")


def ask(view, nodes: list[str], *, timeout: float) -> tuple[EngineMap, str | None]:
    """Ask every engine of ``view`` who it is (node, pid, cores, Python): the map of ``nodes``, and what to do
    when their Python differs from this kernel's (else None).

    As code text (``eval`` of an expression) rather than a function: ipyparallel ships a function's
    bytecode, which only another Python of the same version can run, and a node's Python may differ
    from this kernel's (Raspberry Pi OS trixie's 3.13).
    """
    # eval is a builtin: it goes by name, and the expression as text (view.pull ships bytecode too).
    answers = view.apply_async(eval, f"__import__({__name__!r}, fromlist=['identity']).identity()").get(
        timeout=timeout)
    here = "%d.%d" % sys.version_info[:2]
    there = sorted({a.get("python", here) for a in answers} - {here})
    warning = (f"the nodes run Python {', '.join(there)} and this kernel {here}: functions sent with apply or "
               "map need the same version (ipyparallel ships their bytecode); send code as text (view.execute, "
               "or apply(eval, 'expression')), or run the workbook with the nodes' Python" if there else None)
    return EngineMap.from_answers(dict(zip(view.targets, answers)), nodes), warning
