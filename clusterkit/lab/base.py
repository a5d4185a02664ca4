"""What every lab shares: :class:`Lab` (a lab on this host as its record describes it) and :class:`NodeStatus`.

Each kind of lab (:mod:`.kinds`) drives its nodes with a subclass: :class:`clusterkit.lab.ns.NamespaceLab`
(namespaces on this host) and :class:`clusterkit.lab.vm.vmlab.VMLab` (virtual boards), siblings.
"""

from __future__ import annotations

import html
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ClusterkitError
from ..inventory import Inventory, load_inventory
from . import kinds, net, procs
from .image import FRESH
from .record import Board, Record, set_supervisor

if TYPE_CHECKING:
    from ..cluster import Cluster

#: The login of a freshly imaged board, until notebook 01 renames it.
IMAGE_USER = FRESH.user

#: Where root's labs keep their state, one directory per lab; their inventories are readable by every user.
SHARED_LABS_DIR = Path("/run/clusterkit/labs")


def own_labs_dir(*, uid: int | None = None, env=os.environ) -> Path:
    """Where the labs of the user running this keep their state: root's under /run (readable by every user,
    as today); a normal user's in a folder of its own, 0700 (:mod:`.userlab`): ``$XDG_RUNTIME_DIR/clusterkit/labs``
    when that is the user's own folder, else ``~/.local/state/clusterkit/labs``."""
    uid = os.geteuid() if uid is None else uid
    if uid == 0:
        return SHARED_LABS_DIR
    runtime = env.get("XDG_RUNTIME_DIR", "")
    try:
        st = os.stat(runtime) if runtime.startswith("/") else None
    except OSError:
        st = None
    if st is not None and st.st_uid == uid:
        return Path(runtime) / "clusterkit" / "labs"
    import pwd
    try:
        home = pwd.getpwuid(uid).pw_dir
    except KeyError:
        home = env.get("HOME", "/nonexistent")
    return Path(home) / ".local" / "state" / "clusterkit" / "labs"


#: Where the labs this user starts keep their state, one directory per lab (``LABS_DIR/NAME``).
LABS_DIR = Path(os.environ.get("CLUSTERKIT_LABS_DIR") or own_labs_dir())
DEFAULT_NAME = "pc"
DEFAULT_COUNT = 4
#: Seconds ``up`` waits for every node's sshd to answer on its DHCP address.
UP_TIMEOUT = 60.0


@dataclass(frozen=True)
class NodeStatus:
    """How one node of a lab is doing right now."""

    name: str
    state: str          #: "running", "booting" (sshd not answering yet) or "off"
    pid: int | None     #: the host's pid of the node's PID 1 (``nsenter -t PID -a``)
    host: str
    address: str
    uid: int | None     #: ``login``'s UID in the node's own /etc/passwd now (None when it cannot be read)
    sshd: bool          #: sshd answers on the node's DHCP address
    login: str = "pi"   #: the user the lab's inventory logs in as now (``pi`` until notebook 01 renames it)


class Lab:
    """A lab on this host, as recorded in ``LABS_DIR/NAME/lab.json``. Get one with :func:`up` or :func:`find`.

    What every kind of lab shares; a kind's subclass says how its nodes are powered, reached and measured."""

    #: The name of its kind (:mod:`.kinds`), as ``lab.json`` records it.
    kind: str = ""

    def __init__(self, directory: Path):
        self.dir = directory
        record = Record.load(directory)
        self.name: str = record.name
        self.slot: int = record.slot
        self.network: str = record.network      #: the cluster network (wired, eth0)
        self.uplink: str = record.uplink        #: the venue Wi-Fi subnet (wlan0, DHCP)
        self.router: procs.Proc | None = record.router
        self.boards: dict[str, Board] = record.boards
        self.names = net.LabNames(self.name)
        #: The nodes that the last :func:`up` powered on (all of them for a new lab; none when nothing changed).
        self.powered_on: list[str] = []

    # ------------------------------------------------------------ files
    @property
    def inventory_path(self) -> Path:
        return self.dir / "inventory.yaml"

    @property
    def known_hosts_path(self) -> Path:
        return self.dir / "known_hosts"

    def node_dir(self, name: str) -> Path:
        return self.dir / "nodes" / name

    def inventory(self) -> Inventory:
        return load_inventory(self.inventory_path)

    def connect(self, *, fanout: int | None = None, connect_timeout: float | None = None,
                command_timeout: float | None = None) -> Cluster:
        """A :class:`~clusterkit.Cluster` on this lab's nodes, through the lab backend (the SSH backend's code);
        the settings not given are :func:`clusterkit.connect`'s defaults."""
        from ..backends import get
        from ..cluster import DEFAULT_CONNECT_TIMEOUT, DEFAULT_FANOUT, Cluster
        kind, inventory = get("lab"), self.inventory()
        timeout = DEFAULT_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        return Cluster(inventory, kind.make_nodes(inventory, connect_timeout=timeout), backend=kind,
                       fanout=DEFAULT_FANOUT if fanout is None else fanout, connect_timeout=timeout,
                       command_timeout=command_timeout)

    def _set_supervisor(self, name: str, supervisor: procs.Proc | None) -> None:
        """Record board ``name``'s new supervisor, here and in ``lab.json`` (changing only that board there)."""
        self.boards[name] = set_supervisor(self.dir, name, supervisor).boards[name]

    # ------------------------------------------------------------ nodes (each kind's own)
    def pid(self, name: str) -> int | None:
        """The host's pid of node ``name`` (its PID 1, or its machine), or None when it is off."""
        raise NotImplementedError

    def exec(self, name: str, command: str, *, input: str | None = None,
             timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run ``command`` as root on node ``name``, bypassing SSH."""
        raise NotImplementedError

    def start_node(self, name: str) -> None:
        """Power a node on (it keeps its files, like an SD card); no-op when it runs."""
        raise NotImplementedError

    def wait_booted(self, names: list[str], *, timeout: float) -> None:
        """Wait until the nodes' sshd answers (else raise, naming them)."""
        raise NotImplementedError

    def stop_node(self, name: str) -> None:
        """Pull a node's plug from outside."""
        raise NotImplementedError

    def status(self) -> list[NodeStatus]:
        """How each node is doing now."""
        raise NotImplementedError

    def memory(self) -> dict[str, dict[str, int]]:
        """Per node: Rss and Pss in KiB, and how many processes they are."""
        raise NotImplementedError

    def describe(self) -> str:
        """What its nodes are, for ``lab status`` ("namespaces")."""
        raise NotImplementedError

    def _board(self, name: str) -> Board:
        try:
            return self.boards[name]
        except KeyError:
            raise ClusterkitError(f"no such node in lab {self.name}", node=name) from None

    # ------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        """The router runs (the lab is up, though some nodes may be powered off)."""
        return procs.alive(self.router)

    def down(self) -> None:
        """Stop every node and the router; remove every namespace, link and file of the lab."""
        kinds.get(self.kind or None).teardown(self.name, lab=self, labs_dir=self.dir.parent)

    def __repr__(self) -> str:
        on = sum(1 for b in self.boards.values() if procs.alive(b.supervisor))
        return (f"<Lab {self.name!r} nodes={self.inventory().nodeset} on={on}/{len(self.boards)} "
                f"uplink={self.uplink} network={self.network}>")

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
                s.name, s.state, s.pid or "—", s.host, s.address, s.login,
                "?" if s.uid is None else s.uid, "yes" if s.sshd else "no")) + "</tr>"
            for s in self.status())
        head = "".join(f"<th>{h}</th>" for h in ("node", "state", "pid", "DHCP address (wlan0)",
                                                  "planned address (eth0)", "login", "its uid", "sshd answers"))
        return (f"<div><b>lab {html.escape(self.name)}</b>: uplink {html.escape(self.uplink)}, cluster network "
                f"{html.escape(self.network)}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")
