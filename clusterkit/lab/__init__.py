"""The lab: a virtual cluster of freshly imaged boards on one Linux host, with real sshd.

``sudo clusterkit lab up`` (or :func:`up` as root) makes N nodes, each in its own
network, mount, UTS, IPC and PID namespaces (see :mod:`.node`), wired to a
cluster bridge (``eth0``, no address yet) and a Wi-Fi uplink bridge (``wlan0``)
where a venue router (:mod:`.dhcp`) hands out addresses. It writes an inventory
that :func:`clusterkit.connect` and the CLI use, readable by every user, so that
JupyterLab as a normal user reaches the nodes. The nodes start in the state
:mod:`.image` describes.

A node shares the host's ``/usr``: a package "installed" on a lab node is one
that the host has (scripts/setup.sh installs them).
"""

from __future__ import annotations

import fcntl
import html
import os
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import ClusterkitError
from ..inventory import Inventory, load_inventory
from . import check, net, node, procs
from .build import build, teardown
from .image import FRESH, WORKSHOP_PASSWORD, FreshImage
from .record import Board, Record
from .wait import wait_for_sshd

#: Where running labs keep their state, one directory per lab (``LABS_DIR/NAME``).
LABS_DIR = Path(os.environ.get("CLUSTERKIT_LABS_DIR", "/run/clusterkit/labs"))
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
    uid: int
    sshd: bool          #: sshd answers on the node's DHCP address


class Lab:
    """A lab on this host, as recorded in ``LABS_DIR/NAME/lab.json``. Get one with :func:`up` or :func:`find`."""

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

    def connect(self, **options):
        """A :class:`~clusterkit.Cluster` on this lab's nodes (through the SSH backend's code)."""
        from .. import connect
        return connect(self.inventory_path, backend="lab", **options)

    def prepare(self, *, user: str = "alice", uid: int = 1000, keys: bool = True) -> None:
        """Bring the nodes to where notebooks 01-03 leave them: one user with one UID, cluster addresses and
        names, and (``keys``) key logins. For tests, benchmarks, and a class that starts at a later notebook.
        The chain of steps is the workbook's own (:func:`clusterkit.workbook.reapply`)."""
        from .. import workbook
        with self.connect() as c:
            workbook.reapply(c, "01_users", "02_network", *(("03_keys",) if keys else ()), user=user, uid=uid)

    def _save(self) -> None:
        Record(self.name, self.slot, self.network, self.uplink, self.router, self.boards).save(self.dir)

    # ------------------------------------------------------------ nodes
    def pid(self, name: str) -> int | None:
        """The host's pid of node ``name``'s PID 1, or None when it is off."""
        return node.init_pid(self._board(name).supervisor)

    def exec(self, name: str, command: str, *, input: str | None = None,
             timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run ``command`` as root inside node ``name`` (every namespace of it), bypassing SSH."""
        pid = self.pid(name)
        if pid is None:
            raise ClusterkitError("the node is off; `clusterkit lab up` starts it", node=name)
        return subprocess.run(["nsenter", "-t", str(pid), "-a", "--", "/bin/sh", "-c", command],
                              input=input, capture_output=True, text=True, timeout=timeout)

    def start_node(self, name: str) -> None:
        """Power a node on (it keeps its files, like an SD card); no-op when it runs."""
        board = self._board(name)
        if procs.alive(board.supervisor):
            return
        node.stop(board.supervisor)
        sup = node.start(ns=self.names.node_ns(name), node_dir=self.node_dir(name), bin_dir=self.dir / "bin")
        self.boards[name] = Board(**{**board.__dict__, "supervisor": sup})
        self._save()

    def wait_booted(self, names: list[str], *, timeout: float) -> None:
        """Wait until the nodes' sshd answers (else raise, naming them), then, within what is left of
        ``timeout``, until each boot has made its NFS mounts or given up (said in its console log)."""
        deadline = time.monotonic() + timeout
        boards = [self.boards[n] for n in names]
        wait_for_sshd({b.name: b.host for b in boards}, timeout=timeout,
                      logs={b.name: self.node_dir(b.name) / "console.log" for b in boards},
                      running={b.name: (lambda sup=b.supervisor: procs.alive(sup)) for b in boards})
        while time.monotonic() < deadline and not all(
                (self.node_dir(b.name) / node.MOUNTS_DONE).exists() or not procs.alive(b.supervisor) for b in boards):
            time.sleep(0.1)

    def stop_node(self, name: str) -> None:
        """Pull a node's plug from outside (a poweroff inside the node does the same)."""
        board = self._board(name)
        node.stop(board.supervisor)
        procs.wait_gone([board.supervisor] if board.supervisor else [])

    def _board(self, name: str) -> Board:
        try:
            return self.boards[name]
        except KeyError:
            raise ClusterkitError(f"no such node in lab {self.name}", node=name) from None

    # ------------------------------------------------------------ state
    def status(self) -> list[NodeStatus]:
        from .wait import sshd_answers
        out = []
        for b in self.boards.values():
            pid = node.init_pid(b.supervisor)
            answers = pid is not None and sshd_answers(b.host, timeout=0.5)
            state = "off" if pid is None else ("running" if answers else "booting")
            out.append(NodeStatus(name=b.name, state=state, pid=pid, host=b.host, address=b.address,
                                  uid=b.uid, sshd=answers))
        return out

    @property
    def running(self) -> bool:
        """The router runs (the lab is up, though some nodes may be powered off)."""
        return procs.alive(self.router)

    def memory(self) -> dict[str, dict[str, int]]:
        """Per node: Rss and Pss in KiB of all its processes (supervisor, PID 1, sshd, dhclient, …)."""
        out = {}
        for b in self.boards.values():
            total = {"rss": 0, "pss": 0, "processes": 0}
            if procs.alive(b.supervisor):
                for pid in [b.supervisor.pid] + procs.descendants(b.supervisor.pid):
                    m = procs.memory_kib(pid)
                    total["rss"] += m["rss"]
                    total["pss"] += m["pss"]
                    total["processes"] += 1
            out[b.name] = total
        return out

    def down(self) -> None:
        """Stop every node and the router; remove every namespace, link and file of the lab."""
        teardown(self.name, lab=self, labs_dir=LABS_DIR)

    def __repr__(self) -> str:
        on = sum(1 for b in self.boards.values() if procs.alive(b.supervisor))
        return (f"<Lab {self.name!r} nodes={self.inventory().nodeset} on={on}/{len(self.boards)} "
                f"uplink={self.uplink} network={self.network}>")

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
                s.name, s.state, s.pid or "—", s.host, s.address, s.uid, "yes" if s.sshd else "no")) + "</tr>"
            for s in self.status())
        head = "".join(f"<th>{h}</th>" for h in ("node", "state", "pid", "DHCP address (wlan0)",
                                                  "planned address (eth0)", "pi's uid", "sshd answers"))
        return (f"<div><b>lab {html.escape(self.name)}</b>: uplink {html.escape(self.uplink)}, cluster network "
                f"{html.escape(self.network)}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


# ---------------------------------------------------------------- public functions

def find(name: str = DEFAULT_NAME) -> Lab | None:
    """The lab called ``name`` if its state is on this host (running or partly)."""
    directory = LABS_DIR / name
    return Lab(directory) if (directory / "lab.json").is_file() else None


def labs() -> list[Lab]:
    """Every lab recorded on this host."""
    if not LABS_DIR.is_dir():
        return []
    return [Lab(d) for d in sorted(LABS_DIR.iterdir()) if (d / "lab.json").is_file()]


def status(*, name: str | None = None) -> list[Lab]:
    """The labs on this host (or just ``name``); each has ``.status()`` per node."""
    found = labs()
    return [lab for lab in found if name is None or lab.name == name]


def up(*, n: int | None = None, name: str = DEFAULT_NAME, network: str | None = None,
       timeout: float = UP_TIMEOUT, image: FreshImage = FRESH) -> Lab:
    """Bring lab ``name`` up with ``n`` nodes (default 4) and return it; needs root.

    When the lab already runs, nodes that were powered off are started again
    (the lab's ``powered_on`` names them) and the lab is returned as it is.
    A node's boot starts what is enabled on it and makes its fstab's mounts
    (:mod:`.node`, :mod:`.bootmounts`); ``up`` waits for that too, within ``timeout``. ``network``: the cluster network (default
    10.0.0.0/24, or the next free 10.0.k.0/24 when another lab has it).
    """
    why = check.reason()
    if why is not None:
        raise ClusterkitError(why, field="lab")
    net.check_lab_name(name)
    if n is not None and not 1 <= n <= net.MAX_NODES:
        raise ClusterkitError(f"a lab has 1 to {net.MAX_NODES} nodes, not {n}", field="n")
    with _locked():
        existing = find(name)
        if existing is not None and existing.running:
            if n is not None and n != len(existing.boards):
                raise ClusterkitError(f"lab {name} is already up with {len(existing.boards)} nodes; "
                                      f"`clusterkit lab down --name {name}` first", field="n")
            off = [b.name for b in existing.boards.values() if not procs.alive(b.supervisor)]
            for name_ in off:
                existing.start_node(name_)
            existing.powered_on = off
            if off:
                existing.wait_booted(off, timeout=timeout)
            return existing
        teardown(name, lab=existing, labs_dir=LABS_DIR)   # leftovers of a lab that died
        build(name=name, count=n or DEFAULT_COUNT, network=network, image=image, labs_dir=LABS_DIR,
              password=WORKSHOP_PASSWORD, other_labs=[lab for lab in labs() if lab.name != name])
        lab = Lab(LABS_DIR / name)
    lab.powered_on = list(lab.boards)
    try:
        lab.wait_booted(lab.powered_on, timeout=timeout)
    except ClusterkitError:
        lab.down()
        raise
    return lab


def down(*, name: str = DEFAULT_NAME) -> bool:
    """Take lab ``name`` down; False when there was nothing of it on this host."""
    net.check_lab_name(name)
    lab = find(name)
    leftovers = any(ns.startswith(f"ck-{name}-") for ns in net.existing_netns()) or \
        any(link.startswith(f"ck{name}-") for link in net.existing_links())
    if lab is None and not leftovers and not (LABS_DIR / name).exists():
        return False
    teardown(name, lab=lab, labs_dir=LABS_DIR)
    return True


# ---------------------------------------------------------------- making and removing

@contextmanager
def _locked():
    LABS_DIR.mkdir(parents=True, exist_ok=True)
    for d in (LABS_DIR.parent, LABS_DIR):
        d.chmod(0o755)
    with open(LABS_DIR / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


__all__ = ["Lab", "Board", "NodeStatus", "up", "down", "status", "find", "labs", "LABS_DIR",
           "DEFAULT_NAME", "DEFAULT_COUNT", "FRESH", "WORKSHOP_PASSWORD"]
