"""A lab on this host as its record describes it: :class:`Lab` (the namespace lab's nodes) and :class:`NodeStatus`.

:class:`clusterkit.lab.vm.vmlab.VMLab` is the same interface over virtual boards.
"""

from __future__ import annotations

import html
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ClusterkitError
from ..inventory import Inventory, load_inventory
from . import net, node, procs
from .build import teardown
from .image import FRESH
from .record import Board, Record
from .wait import wait_for_sshd

#: The login of a freshly imaged board, until notebook 01 renames it.
IMAGE_USER = FRESH.user

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
    uid: int | None     #: ``login``'s UID in the node's own /etc/passwd now (None when it cannot be read)
    sshd: bool          #: sshd answers on the node's DHCP address
    login: str = "pi"   #: the user the lab's inventory logs in as now (``pi`` until notebook 01 renames it)


class Lab:
    """A lab on this host, as recorded in ``LABS_DIR/NAME/lab.json``. Get one with :func:`up` or :func:`find`.

    This class is the namespace lab; :class:`clusterkit.lab.vm.vmlab.VMLab` is the lab of virtual boards."""

    #: "ns" (namespaces on this host) or "vm" (virtual boards).
    kind = "ns"

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
            done = workbook.reapply(c, "01_users", "02_network", *(("03_keys",) if keys else ()), user=user, uid=uid)
            done.save_inventory()   # the next connect() reaches the nodes at their cluster addresses too

    def _save(self) -> None:
        """Write the boards back to ``lab.json``, keeping everything else it records (kind, release, image)."""
        import dataclasses
        dataclasses.replace(Record.load(self.dir), boards=self.boards).save(self.dir)

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
        try:
            specs = self.inventory().nodes
        except Exception:   # an inventory being rewritten: the image's user, as the lab made it
            specs = {}
        out = []
        for b in self.boards.values():
            pid = node.init_pid(b.supervisor)
            answers = pid is not None and sshd_answers(b.host, timeout=0.5)
            state = "off" if pid is None else ("running" if answers else "booting")
            spec = specs.get(b.name)
            login = (spec.user if spec is not None and spec.user else None) or IMAGE_USER
            uid = self.login_uid(b.name, login)
            if uid is None and login == IMAGE_USER:
                uid = b.uid            # not readable here (a virtual board's disk): the UID its card gave it
            out.append(NodeStatus(name=b.name, state=state, pid=pid, host=b.host, address=b.address,
                                  uid=uid, sshd=answers, login=login))
        return out

    def login_uid(self, name: str, user: str) -> int | None:
        """``user``'s UID in node ``name``'s own ``/etc/passwd``, read from this host (None when not there)."""
        try:
            text = (self.node_dir(name) / "etc" / "upper" / "passwd").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[0] == user and fields[2].isdigit():
                return int(fields[2])
        return None

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
                s.name, s.state, s.pid or "—", s.host, s.address, s.login,
                "?" if s.uid is None else s.uid, "yes" if s.sshd else "no")) + "</tr>"
            for s in self.status())
        head = "".join(f"<th>{h}</th>" for h in ("node", "state", "pid", "DHCP address (wlan0)",
                                                  "planned address (eth0)", "login", "its uid", "sshd answers"))
        return (f"<div><b>lab {html.escape(self.name)}</b>: uplink {html.escape(self.uplink)}, cluster network "
                f"{html.escape(self.network)}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")
