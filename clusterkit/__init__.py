"""clusterkit: from a box of boards to a working small cluster, then computing on it.

How it fits together, lowest layer first (a module imports only its own layer
and those below; ``tests/unit/test_imports.py`` checks it):

1. ``errors``, ``results``, ``inventory`` (its field checks in ``validate``),
   ``sample`` (the node agent's line), ``kernel`` (are we in a notebook),
   ``atomicfile`` (the one atomic write of a file of this machine).
   Just above them, ``firstboot``: the files that go on each card before a board boots.
2. ``backends``: the one :class:`~clusterkit.backends.base.Node` interface, and
   one registered Backend object per kind of node (``backends/registry.py``):
   how its nodes are made, what inventory they imply, which Python they run,
   how the agent and engines start there.
3. ``lab``: the lab on this host (namespaces, a real sshd per node), reached with the ssh backend's code.
4. :func:`connect` and :class:`Cluster`: an inventory and its nodes, run on many at once.
5. Work through a cluster: ``steps``, ``ops``, ``compute``, ``agent``, ``leds``, ``clock``.
6. What a notebook shows: ``dashboard``, ``workbook``, ``kiosk``. Then ``cli``.

From ``connect()`` to a node and back: the inventory is loaded and checked;
the registry resolves the backend (``auto`` picks one); the Backend says which
inventory its nodes really have and makes one Node per entry. ``cluster.run``
calls ``node.run`` on each (bounded fan-out, connect timeout) and returns a
:class:`ClusterResult`: one :class:`NodeResult` per node, a failed row (never a
hang, never an exception) for a node that is down.

From plan to apply: a step's ``plan()`` reads each node and renders per-node
diffs and commands, changing nothing; ``apply()`` runs exactly those actions
(``steps/actions.py``: a file written atomically with a backup, a command, a
link, a detached script, a bind from the host) through one executor, on the
node as root or simulated in its sandbox (local backend). The result carries
the inventory's changes (a renamed login, a new address);
``result.save_inventory()`` writes them to the file.

Where a new thing goes: a setup step, in ``steps/`` (a Step composing actions);
a backend, one module with a Backend subclass and one ``register`` call; a
dashboard panel, in ``dashboard/`` (a :class:`~clusterkit.dashboard.panel.Panel`:
``source``, ``root``, ``update``).
"""

from __future__ import annotations

import os
from pathlib import Path

# Installed by scripts/setup.sh, the package is a link to one version's folder, swapped whole when the files
# change (scripts/install_clusterkit.py): this process goes on importing from the folder it started with, and
# holds that folder's "in-use" file open so that setup never removes it under us. From a checkout: nothing to do.
__path__[:] = [os.path.realpath(p) for p in __path__]
try:
    _IN_USE = os.open(os.path.join(os.path.dirname(__path__[0]), "in-use"), os.O_RDONLY | os.O_CLOEXEC)
except OSError:
    _IN_USE = None

from . import backends

# The kinds of node, each one module and one entry here, imported on first use (``backends/__init__.py`` says why
# the list is here): the package is the layer above every backend, the lab's included.
backends.register("clusterkit.backends.local:LOCAL", name="local", auto=True)
backends.register("clusterkit.lab.backend:LAB", name="lab", auto=True)
backends.register("clusterkit.backends.ssh:SSH", name="ssh")

from .cluster import DEFAULT_CONNECT_TIMEOUT, DEFAULT_FANOUT, Cluster
from .errors import ClusterError, ClusterkitError, InventoryError, NodeError, PrivilegeRefused
from .inventory import Inventory, NodeSpec, load_inventory
from .results import ClusterResult, NodeResult
from .carriers import Joined, carriers_of
from .errors import install_excepthook
from .kernel import register_magics

register_magics()   # %%solution, for the exercises' hidden solutions (clusterkit.kernel.solution)
install_excepthook()   # plain Python: an uncaught clusterkit error in one line, as in a notebook

__version__ = "0.1.0"


def connect(inventory: str | os.PathLike | Inventory | None = None, *, backend: str | None = None,
            fanout: int = DEFAULT_FANOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
            command_timeout: float | None = None, sandbox: str | os.PathLike | None = None) -> Cluster:
    """A cluster for an inventory on a backend.

    ``inventory``: a path or an :class:`Inventory`; else ``$CLUSTERKIT_INVENTORY``;
    else the packaged four-node default. A path to a joined file (``carriers: [...]``,
    :mod:`clusterkit.carriers`) gives one cluster of all the carriers. ``backend``: "local", "lab", "ssh" or
    "auto"; else ``$CLUSTERKIT_BACKEND``; else "auto". ``sandbox``: where the
    local backend keeps its nodes' directories (default ``$CLUSTERKIT_SANDBOX``
    or ``~/.cache/clusterkit/sandbox``).
    """
    joined = None if isinstance(inventory, Inventory) else \
        carriers_of(inventory or os.environ.get("CLUSTERKIT_INVENTORY") or "")
    if joined:   # a joined file: every carrier connected, as one cluster (clusterkit.carriers)
        import yaml
        name = (yaml.safe_load(Path(inventory or os.environ["CLUSTERKIT_INVENTORY"]).read_text()) or {}).get("name")
        return join(*joined, name=name, backend=backend, fanout=fanout, connect_timeout=connect_timeout,
                    command_timeout=command_timeout, sandbox=sandbox)
    inv = inventory if isinstance(inventory, Inventory) else load_inventory(inventory)
    kind = backends.resolve(backend or os.environ.get("CLUSTERKIT_BACKEND") or "auto", inv)
    inv = kind.inventory_for(inv)
    root = Path(sandbox) if sandbox else None
    nodes = kind.make_nodes(inv, sandbox=root, connect_timeout=connect_timeout)
    return Cluster(inv, nodes, backend=kind, fanout=fanout, connect_timeout=connect_timeout,
                   command_timeout=command_timeout, sandbox=root)

def join(*carriers: Cluster | Inventory | str | os.PathLike, name: str | None = None, backend: str | None = None,
         fanout: int = DEFAULT_FANOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
         command_timeout: float | None = None, sandbox: str | os.PathLike | None = None) -> Joined:
    """One cluster of several carriers (:mod:`clusterkit.carriers`), each a :class:`Cluster`, an
    :class:`Inventory` or an inventory path; those last two are connected as :func:`connect` does,
    with these arguments."""
    clusters = [c if isinstance(c, Cluster) else
                connect(c, backend=backend, fanout=fanout, connect_timeout=connect_timeout,
                        command_timeout=command_timeout, sandbox=sandbox) for c in carriers]
    return Joined(clusters, name=name)


__all__ = [
    "connect", "join", "Joined", "Cluster", "Inventory", "NodeSpec", "load_inventory", "ClusterResult", "NodeResult",
    "ClusterkitError", "ClusterError", "InventoryError", "NodeError", "PrivilegeRefused", "__version__",
]
