"""Carriers joined: two or three clusters, each with its own inventory and primary, used as one.

A booth may bring several carry cases (carriers), each a small cluster. :func:`clusterkit.join`
makes one :class:`Joined` cluster of them: ``run``, ``engines()`` and the dashboard
span every carrier's nodes; ``groups`` says which nodes are whose, and
:meth:`Joined.reachable` which carriers answer now. A joined cluster is also a
small YAML file naming the carriers' inventories (``carriers: [a.yaml, b.yaml]``),
written by ``clusterkit join`` and read wherever an inventory path is taken
(``connect()``, ``-i``, ``CLUSTERKIT_INVENTORY``).

When the link between carriers drops, nothing in one carrier needs the other: a
node that does not answer gives its failed row within the timeouts, as any
unreachable node does; :class:`Watch` notices a carrier coming back and starts
its engines again.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import yaml

from .cluster import Cluster
from .errors import ClusterkitError, InventoryError
from .inventory import Inventory, NodeSpec

#: Seconds a reachability probe waits for a carrier's primary.
PROBE_TIMEOUT = 1.0


class Joined(Cluster):
    """Several carriers' nodes as one cluster; the first carrier's primary is the joined cluster's primary."""

    def __init__(self, carriers: list[Cluster], *, name: str | None = None):
        if len(carriers) < 2:
            raise ClusterkitError(f"joins two or more carriers, not {len(carriers)}", field="carriers")
        names = [c.name for c in carriers]
        if len(set(names)) != len(names):
            raise ClusterkitError(f"carriers need distinct names, not {', '.join(names)}", field="carriers")
        owner: dict[str, str] = {}
        for c in carriers:
            for n in c.nodes:
                if n in owner:
                    raise ClusterkitError(f"is a node of both {owner[n]} and {c.name}: rename one before joining",
                                          node=n, field="nodes")
                owner[n] = c.name
        first = carriers[0]
        specs = {n: NodeSpec(s.name, s.host, s.port, s.user, s.address, primary=(n == first.inventory.primary))
                 for c in carriers for n, s in c.inventory.nodes.items()}
        inventory = Inventory(name=name or "-".join(names), nodes=specs, primary=first.inventory.primary,
                              backend=first.inventory.backend, python=first.inventory.python,
                              source=" + ".join(c.inventory.source for c in carriers))
        super().__init__(inventory, {n: node for c in carriers for n, node in c.nodes.items()}, backend=first.kind,
                         connect_timeout=max(c.connect_timeout for c in carriers),
                         command_timeout=first.command_timeout, sandbox=first.sandbox)
        self.carriers: dict[str, Cluster] = {c.name: c for c in carriers}

    @property
    def groups(self) -> dict[str, list[str]]:
        """Each carrier's nodes, by carrier."""
        return {name: list(c.nodes) for name, c in self.carriers.items()}

    def carrier_of(self, node: str) -> str:
        return next(name for name, c in self.carriers.items() if node in c.nodes)

    def reachable(self, *, timeout: float = PROBE_TIMEOUT) -> dict[str, bool]:
        """Which carriers answer now: a TCP connection to the SSH port of each one's primary."""
        def probe(c: Cluster) -> bool:
            spec = c.inventory[c.inventory.primary]
            try:
                with socket.create_connection((spec.host, spec.port), timeout=timeout):
                    return True
            except OSError:
                return False
        results: dict[str, bool] = {}
        threads = [threading.Thread(target=lambda c=c: results.__setitem__(c.name, probe(c)), daemon=True)
                   for c in self.carriers.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout + 1)
        return {name: results.get(name, False) for name in self.carriers}

    def watch(self, *, engines=None, interval: float = 2.0) -> "Watch":
        """A thread that follows which carriers answer, and starts engines again on a carrier that came back."""
        return Watch(self, engines=engines, interval=interval).start()

    def close(self) -> None:
        for c in self.carriers.values():
            c.close()

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}: {c.nodeset}" for name, c in self.carriers.items())
        return f"<Joined({self.name}: {parts}; primary={self.inventory.primary}, backend={self.backend})>"

    def _repr_html_(self) -> str:
        import html
        rows = "".join(f"<li><b>{html.escape(n)}</b>: <code>{html.escape(str(c.nodeset))}</code>, primary "
                       f"<code>{html.escape(c.inventory.primary)}</code></li>" for n, c in self.carriers.items())
        return f"<div>{len(self.carriers)} carriers joined as <b>{html.escape(self.name)}</b>:<ul>{rows}</ul></div>"


class Watch:
    """Follows which carriers answer (``status``); a carrier that comes back gets its engines started again."""

    def __init__(self, joined: Joined, *, engines=None, interval: float = 2.0):
        self.joined, self.engines, self.interval = joined, engines, interval
        self.status: dict[str, bool] = {name: True for name in joined.carriers}
        self.rejoined: list[tuple[str, list[str]]] = []   #: (carrier, nodes whose engines were started again)
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="clusterkit-carriers")

    def start(self) -> "Watch":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.joined.reachable()
            for name, up in now.items():
                if up and not self.status[name] and self.engines is not None:
                    try:
                        started = self.engines.rejoin(self.joined.groups[name])
                        self.rejoined.append((name, started))
                    except ClusterkitError as e:
                        self.error = f"{name}: {e}"
                        up = False          # try again next time
                self.status[name] = up
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


# ---------------------------------------------------------------- the joined file

def carriers_of(path: str | os.PathLike) -> list[Path] | None:
    """The carriers' inventories a joined file names, or None when ``path`` is an ordinary inventory."""
    p = Path(path)
    if p.suffix not in (".yaml", ".yml") or not p.is_file():
        return None
    try:
        data = yaml.safe_load(p.read_text())
    except (OSError, ValueError, yaml.YAMLError):   # not text, not YAML: the inventory's own checks say so
        return None
    if not isinstance(data, dict) or "carriers" not in data:
        return None
    listed = data["carriers"]
    if not isinstance(listed, list) or len(listed) < 2 or not all(isinstance(x, str) for x in listed):
        raise InventoryError("must list two or more inventory files", source=str(p), field="carriers")
    return [(p.parent / x).resolve() if not os.path.isabs(x) else Path(x) for x in listed]


def write_joined(path: str | os.PathLike, inventories: list[str | os.PathLike], *, name: str | None = None) -> Path:
    """Write a joined file naming ``inventories`` (absolute paths); check them first."""
    from .inventory import load_inventory
    loaded = [load_inventory(i) for i in inventories]   # a bad one is refused before anything is written
    seen: dict[str, str] = {}
    for inv in loaded:
        for n in inv.nodes:
            if n in seen:
                raise InventoryError(f"is a node of both {seen[n]} and {inv.name}: rename one before joining",
                                     source=inv.source, field="nodes", node=n)
            seen[n] = inv.name
    data = {"carriers": [str(Path(i).resolve()) for i in inventories]}
    if name:
        data["name"] = name
    target = Path(path)
    target.write_text("# Carriers joined into one cluster (clusterkit join).\n" + yaml.safe_dump(data, sort_keys=False))
    return target


__all__ = ["Joined", "Watch", "carriers_of", "write_joined"]
