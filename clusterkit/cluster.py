"""The Cluster: every node of an inventory on one backend, and commands on all of them at once."""

from __future__ import annotations

import html
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from ClusterShell.NodeSet import NodeSet

from . import backends
from .backends.base import Node
from .errors import ClusterkitError
from .inventory import Inventory, NodeSpec
from .results import ClusterResult, NodeResult

#: Like clush's fanout: how many nodes are worked on at once.
DEFAULT_FANOUT = 64
#: Seconds to open a connection before a node counts as unreachable.
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Extra seconds the fan-out waits for a backend beyond its own timeouts.
GRACE = 1.0

class Cluster:
    """Every node of an inventory, reached through one backend.

    Use :func:`clusterkit.connect` to make one. A cluster is a context manager:
    leaving the ``with`` block closes its connections. ``backend``: the
    :class:`~clusterkit.backends.Backend` that made the nodes, or its name.
    """

    def __init__(self, inventory: Inventory, nodes: dict[str, Node], *, backend: str | backends.Backend,
                 fanout: int = DEFAULT_FANOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 command_timeout: float | None = None, sandbox: Path | None = None):
        if fanout < 1:
            raise ClusterkitError(f"must be at least 1, not {fanout}", field="fanout")
        if connect_timeout <= 0:
            raise ClusterkitError(f"must be positive, not {connect_timeout}", field="connect_timeout")
        self.inventory = inventory
        self.nodes = nodes
        self.kind: backends.Backend = backends.get(backend) if isinstance(backend, str) else backend
        self.backend: str = self.kind.name      #: the backend's name, to show ("on the lab backend")
        self.sandbox = sandbox                  #: where the nodes' folders are, for a backend that has them
        self.fanout = fanout                    #: nodes worked on at once
        self.connect_timeout = connect_timeout  #: seconds before a node counts as unreachable
        self.command_timeout = command_timeout  #: default per-node command timeout (None: no limit)

    # ------------------------------------------------------------ naming
    @property
    def name(self) -> str:
        return self.inventory.name

    @property
    def primary(self) -> Node:
        return self.nodes[self.inventory.primary]

    @property
    def workers(self) -> list[Node]:
        return [self.nodes[n] for n in self.inventory.workers]

    @property
    def nodeset(self) -> NodeSet:
        return self.inventory.nodeset

    @property
    def python(self) -> str:
        """The Python the nodes run (the agent, the engines, MPI programs)."""
        return self.kind.python(self.inventory)

    def node_for(self, spec: NodeSpec) -> Node:
        """A fresh Node for ``spec`` (say, a node's new address or login) on this cluster's backend; the
        cluster's own nodes are not changed."""
        one = replace(self.inventory, nodes={spec.name: spec}, primary=spec.name)
        return self.kind.make_nodes(one, connect_timeout=self.connect_timeout, sandbox=self.sandbox)[spec.name]

    def __getitem__(self, name: str) -> Node:
        try:
            return self.nodes[name]
        except KeyError:
            raise ClusterkitError(f"no such node; the cluster has {self.nodeset}", node=name) from None

    def __iter__(self):
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def select(self, nodes=None, *, exclude=None) -> list[Node]:
        """Nodes by NodeSet pattern (``pc[1-3]``) or names, minus ``exclude``."""
        return [self.nodes[n] for n in self.inventory.select(nodes, exclude=exclude)]

    def reconnect(self, nodes: list[Node]) -> None:
        """Reach these nodes another way from now on (a renamed login, a new address).

        Each replaces the cluster's node of its name, the inventory takes its
        spec, and the old node's connections close. A setup step calls this when
        its apply changed how nodes are reached; the inventory file is rewritten
        only when asked (``result.save_inventory()``).
        """
        fresh = {n.name: n for n in nodes}
        unknown = sorted(set(fresh) - set(self.nodes))
        if unknown:
            raise ClusterkitError(f"no such node; the cluster has {self.nodeset}", node=unknown[0])
        self.inventory = self.inventory.with_nodes([n.spec for n in fresh.values()])
        for name, node in fresh.items():
            old, self.nodes[name] = self.nodes[name], node
            old.close()

    # ------------------------------------------------------------ fan-out
    def each(self, fn: Callable[[Node], Any], *, nodes=None, exclude=None, timeout: float | None = None,
             command: str = "") -> ClusterResult:
        """Call ``fn(node)`` on every chosen node at once (at most ``fanout`` at a time).

        ``fn`` returns a :class:`NodeResult`, or any value (kept as ``.value`` of an ok
        result); an exception becomes that node's failed row. A node that has not
        answered within the connect timeout plus ``timeout`` plus a second gets a
        ``timeout`` row, so the call returns even when a backend hangs.
        """
        chosen = self.select(nodes, exclude=exclude)
        limit = None
        if timeout is not None:
            limit = timeout + GRACE + max((n.connect_timeout for n in chosen), default=0.0)
        results: dict[str, NodeResult] = {}
        started: dict[str, float] = {}
        lock = threading.Condition()
        gate = threading.Semaphore(self.fanout)

        def work(node: Node) -> None:
            with gate:
                t0 = time.monotonic()
                with lock:
                    started[node.name] = t0
                try:
                    out = fn(node)
                    if not isinstance(out, NodeResult):
                        out = NodeResult.done(node.name, out, duration=time.monotonic() - t0, command=command)
                except ClusterkitError as e:   # a connection error carries its row's status
                    out = NodeResult.failure(node.name, getattr(e, "status", "error"), e.message,
                                             time.monotonic() - t0, command)
                except Exception as e:  # one node's surprise must not hide the others' results
                    out = NodeResult.failure(node.name, "error", f"{type(e).__name__}: {e}",
                                             time.monotonic() - t0, command)
                with lock:
                    results.setdefault(node.name, out)
                    lock.notify_all()

        threads = [threading.Thread(target=work, args=(n,), daemon=True, name=f"clusterkit-{n.name}")
                   for n in chosen]
        for t in threads:
            t.start()
        with lock:
            while len(results) < len(chosen):
                now = time.monotonic()
                if limit is not None:
                    for name, t0 in started.items():
                        if name not in results and now - t0 > limit:
                            results[name] = NodeResult.failure(
                                name, "timeout", f"no answer within {limit:g} s", now - t0, command)
                lock.wait(0.05 if limit is not None else 1.0)
        return ClusterResult({n.name: results[n.name] for n in chosen}, command=command)

    def run(self, command: str, *, nodes=None, exclude=None, timeout: float | None = None,
            stdin: str | None = None) -> ClusterResult:
        """Run a shell command on the chosen nodes (all by default) at once; one row per node.

        ``stdin``: the same input for the command on every node.
        """
        timeout = self.command_timeout if timeout is None else timeout
        return self.each(lambda n: n.run(command, timeout=timeout, stdin=stdin), nodes=nodes, exclude=exclude,
                         timeout=timeout, command=command)

    def sudo(self, command: str, *, nodes=None, exclude=None, timeout: float | None = None,
             stdin: str | None = None) -> ClusterResult:
        """Run a command as root on the chosen nodes; the local backend refuses and says so."""
        timeout = self.command_timeout if timeout is None else timeout
        return self.each(lambda n: n.sudo(command, timeout=timeout, stdin=stdin), nodes=nodes, exclude=exclude,
                         timeout=timeout, command=f"sudo {command}")

    def put(self, local: str | Path, remote: str, *, nodes=None, exclude=None,
            mode: int | None = None) -> ClusterResult:
        """Copy one local file to the same path on every chosen node."""
        return self.each(lambda n: n.put(local, remote, mode=mode), nodes=nodes, exclude=exclude,
                         timeout=self.command_timeout, command=f"put {remote}")

    def get(self, remote: str, local_dir: str | Path, *, nodes=None, exclude=None) -> ClusterResult:
        """Fetch ``remote`` from every chosen node into ``local_dir/NODE/`` ; each row's value is the local path."""
        def fetch(n: Node) -> Path:
            dest = Path(local_dir) / n.name / Path(remote).name
            dest.parent.mkdir(parents=True, exist_ok=True)
            n.get(remote, dest)
            return dest
        return self.each(fetch, nodes=nodes, exclude=exclude, timeout=self.command_timeout,
                         command=f"get {remote}")

    def read_file(self, path: str, *, nodes=None, exclude=None) -> ClusterResult:
        """Each node's copy of a file; a row's ``value`` is its bytes (None where it is missing)."""
        return self.each(lambda n: n.read_file(path), nodes=nodes, exclude=exclude,
                         timeout=self.command_timeout, command=f"read {path}")

    def host_keys(self, *, nodes=None):
        """Each chosen node's SSH host key as it answers now: fingerprint, and whether the cluster trusts it."""
        from .backends.hostkeys import scan
        chosen = self.select(nodes)
        return scan([n.spec for n in chosen], self._known_hosts(chosen), timeout=self.connect_timeout)

    def trust_host_keys(self, *, nodes=None):
        """Trust on first use: record the keys of :meth:`host_keys` that are new (check the fingerprints first).

        A key that CHANGED is never replaced here: delete its line by hand once you know why.
        Returns the recorded rows.
        """
        from .backends.hostkeys import trust
        chosen = self.select(nodes)
        path = self._known_hosts(chosen)
        return trust(self.host_keys(nodes=[n.name for n in chosen]), path)

    def _known_hosts(self, chosen: list[Node]) -> Path:
        paths = {n.known_hosts for n in chosen}
        if None in paths or len(paths) != 1:
            raise ClusterkitError(f"the {self.backend} backend has no SSH host keys", field="backend")
        return paths.pop()

    @property
    def groups(self) -> dict[str, list[str]]:
        """Each carrier's nodes, by carrier, where the cluster joins several (:mod:`clusterkit.carriers`); none
        for a cluster that is one carrier."""
        return {}

    def dashboard(self, *, interval: float = 0.5, power: bool = True):
        """A live dashboard widget: load charts, LEDs, LED and power buttons (see :mod:`clusterkit.dashboard`)."""
        from .dashboard import Dashboard
        return Dashboard(self, interval=interval, power=power)

    def engines(self, *, per_node: int = 1, nodes=None, mpi: bool = False, timeout: float | None = None):
        """Start ipyparallel engines on the chosen nodes (all by default) and return them, running.

        ``per_node`` engines on each node; ``mpi=True`` starts them under
        ``mpiexec`` (mpi4py). Use the result in a ``with`` block or call its
        ``stop()``; see :class:`clusterkit.compute.Engines`. ``timeout``: how long
        every engine may take to answer (default: what the kind of node needs,
        ``Backend.engine_timeout``).
        """
        from .compute import Engines
        return Engines(self, per_node=per_node, nodes=nodes, mpi=mpi, timeout=timeout).start()

    # ------------------------------------------------------------ lifetime
    def close(self) -> None:
        for n in self.nodes.values():
            n.close()

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Cluster({self.name}: nodes={self.nodeset}, primary={self.inventory.primary}, backend={self.backend})>"

    def _repr_html_(self) -> str:
        return (f"<div>Cluster <b>{html.escape(self.name)}</b> on the <b>{self.backend}</b> backend: "
                f"{len(self)} nodes <code>{html.escape(str(self.nodeset))}</code>, "
                f"primary <code>{html.escape(self.inventory.primary)}</code></div>")
