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

import ipaddress
import os
import socket
import threading
from dataclasses import replace
from pathlib import Path

import yaml

from .cluster import Cluster
from .errors import ClusterkitError, InventoryError
from .inventory import Inventory, NodeSpec

#: Seconds a reachability probe waits for a carrier's primary.
PROBE_TIMEOUT = 1.0


class Joined(Cluster):
    """Several carriers' nodes as one cluster; the first carrier's primary is the joined cluster's primary.

    A joined cluster owns its nodes: each is made afresh by its carrier's backend, from the carrier's
    inventory (its login password, its timeouts), so :meth:`close` closes the nodes it has now, a node
    reached anew after an apply (a renamed login, a new address) too. The carriers keep nodes of their own.
    Its inventory is described at :func:`joined_inventory`.
    """

    def __init__(self, carriers: list[Cluster], *, name: str | None = None):
        inventory = joined_inventory([c.inventory for c in carriers], name=name)   # refuses before anything
        first = carriers[0]
        nodes = {n: node for c in carriers
                 for n, node in c.kind.make_nodes(c.inventory, connect_timeout=c.connect_timeout,
                                                  sandbox=c.sandbox).items()}
        super().__init__(inventory, nodes, backend=first.kind, fanout=first.fanout,
                         connect_timeout=max(c.connect_timeout for c in carriers),
                         command_timeout=first.command_timeout, sandbox=first.sandbox)
        self.carriers: dict[str, Cluster] = {c.name: c for c in carriers}

    def node_for(self, spec: NodeSpec):
        """A fresh node for ``spec``, made as its carrier makes its nodes (that carrier's backend and password)."""
        return self.carriers[self.carrier_of(spec.name)].node_for(spec)

    @property
    def groups(self) -> dict[str, list[str]]:
        """Each carrier's nodes, by carrier."""
        return {name: list(c.nodes) for name, c in self.carriers.items()}

    def carrier_of(self, node: str) -> str:
        return next(name for name, c in self.carriers.items() if node in c.nodes)

    def reachable(self, *, timeout: float = PROBE_TIMEOUT) -> dict[str, bool]:
        """Which carriers answer now: a TCP connection to the SSH port of each one's primary."""
        def probe(c: Cluster) -> bool:
            spec = self.inventory[c.inventory.primary]     # as the joined cluster reaches it now
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
        """Close the joined cluster's nodes (those it has now), then the carriers'."""
        super().close()
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


# ---------------------------------------------------------------- the joined inventory

#: Fields that name one interface on every node: carriers must agree.
SAME_ON_EVERY_NODE = ("interface", "uplink")


def joined_inventory(inventories: list[Inventory], *, name: str | None = None) -> Inventory:
    """One inventory of the carriers' nodes, or a one-line refusal naming the field where they conflict.

    ``interface`` and ``uplink`` name the wired and Wi-Fi interface of every node, so they must be the same
    in every carrier. ``network`` is the carriers' cluster network when they name the same one (no two
    nodes may then share an address); when each carrier has a network of its own it is None, as for an
    inventory without one (a step that needs one network, NFS or time, takes it as an argument), and
    networks that overlap without being the same are refused. ``password`` is the carriers' when they
    share one, else None: each carrier's nodes log in with their own (:class:`Joined` makes them so).
    """
    if len(inventories) < 2:
        raise ClusterkitError(f"joins two or more carriers, not {len(inventories)}", field="carriers")
    names = [i.name for i in inventories]
    if len(set(names)) != len(names):
        raise ClusterkitError(f"carriers need distinct names, not {', '.join(names)}", field="carriers")
    owner: dict[str, str] = {}
    for inv in inventories:
        for n in inv.nodes:
            if n in owner:
                raise ClusterkitError(f"is a node of both {owner[n]} and {inv.name}: rename one before joining",
                                      node=n, field="nodes")
            owner[n] = inv.name
    for f in SAME_ON_EVERY_NODE:
        values = {i.name: getattr(i, f) for i in inventories}
        if len(set(values.values())) > 1:
            said = ", ".join(f"{v} in {carrier}" for carrier, v in values.items())
            raise ClusterkitError(f"the carriers name different interfaces ({said}): one name on every node",
                                  field=f)
    first = inventories[0]
    specs = {n: replace(s, primary=(n == first.primary)) for i in inventories for n, s in i.nodes.items()}
    passwords = {i.password for i in inventories}
    return Inventory(name=name or "-".join(names), nodes=specs, primary=first.primary,
                     network=_joined_network(inventories), interface=first.interface, uplink=first.uplink,
                     backend=first.backend, python=first.python, source=" + ".join(i.source for i in inventories),
                     password=passwords.pop() if len(passwords) == 1 else None)


def _joined_network(inventories: list[Inventory]) -> ipaddress.IPv4Network | None:
    """The one cluster network the carriers share, None when each has its own; refused when they overlap."""
    networks = [i.network for i in inventories]
    if len(set(networks)) > 1:
        for i, a in enumerate(inventories):
            for b in inventories[i + 1:]:
                if a.network and b.network and a.network.overlaps(b.network):
                    raise ClusterkitError(f"{a.network} of {a.name} overlaps {b.network} of {b.name}: "
                                          "give them the same network or apart ones", field="network")
        return None
    taken: dict[str, str] = {}
    for inv in inventories:
        for n, spec in inv.nodes.items():
            if spec.address and spec.address in taken:
                raise ClusterkitError(f"{spec.address} on {networks[0]} is also the address of {taken[spec.address]}"
                                      ": give each carrier's nodes their own addresses", node=n, field="address")
            if spec.address:
                taken[spec.address] = n
    return networks[0]


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
    try:
        joined_inventory(loaded, name=name)                 # and carriers that conflict
    except ClusterkitError as e:
        raise InventoryError(e.message, source=" + ".join(i.source for i in loaded), field=e.field or "carriers",
                             node=e.node) from None
    data = {"carriers": [str(Path(i).resolve()) for i in inventories]}
    if name:
        data["name"] = name
    target = Path(path)
    target.write_text("# Carriers joined into one cluster (clusterkit join).\n" + yaml.safe_dump(data, sort_keys=False))
    return target


__all__ = ["Joined", "Watch", "carriers_of", "joined_inventory", "write_joined"]
