"""The namespace lab whose root is the host's root (``lab up --host-root``): each node a set of namespaces on this
host with its own sshd, but no user namespace, so root on a node keeps the host root's capabilities. The default
kind (:mod:`.rootless`) is the same lab in a user namespace; this one stays for what only it can do, behind its flag.

Its nodes are made by :mod:`.build` and run by :mod:`.node` (a boot script, not systemd, and
:mod:`.bootmounts` for their fstab); this module is the kind (:data:`KIND`) and the class that drives a
running one (:class:`NamespaceLab`).
"""

from __future__ import annotations

import subprocess
import time

from ..backends.base import Traits
from ..errors import ClusterkitError
from . import build, kinds, node, procs
from .base import IMAGE_USER, Lab, NodeStatus
from .platform import LAB_PLATFORM
from .wait import sshd_answers, wait_for_sshd

#: Its name in ``lab.json``.
NAME = "ns"


class NamespaceLab(Lab):
    """A lab whose nodes are namespaces on this host (``lab.json`` says ``"kind": "ns"``, or nothing)."""

    kind = NAME

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
        if self._on(board):
            return
        node.stop(board.supervisor)
        self._set_supervisor(name, node.start(ns=self.names.node_ns(name), node_dir=self.node_dir(name),
                                              bin_dir=self.dir / "bin"))

    @staticmethod
    def _on(board, *, settle: float = 10.0) -> bool:
        """Whether the node is on. A supervisor whose PID 1 has just ended is waited for (within ``settle``
        seconds): it boots the node again (a reboot: on) or ends (a poweroff: off). Without the wait, a node
        powered off a moment ago, whose supervisor was still ending, would be taken as on and not started."""
        deadline = time.monotonic() + settle
        while procs.alive(board.supervisor):
            if node.init_pid(board.supervisor) is not None or time.monotonic() > deadline:
                return True
            time.sleep(0.02)
        return False

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

    def status(self) -> list[NodeStatus]:
        try:
            specs = self.inventory().nodes
        except Exception:   # an inventory being rewritten: the image's user, as the lab made it
            specs = {}
        out = []
        for b in self.boards.values():
            pid = node.init_pid(b.supervisor)
            answers = pid is not None and self._sshd_answers(pid, b.host)
            state = "off" if pid is None else ("running" if answers else "booting")
            spec = specs.get(b.name)
            login = (spec.user if spec is not None and spec.user else None) or IMAGE_USER
            uid = self.login_uid(b.name, login)
            if uid is None and login == IMAGE_USER:
                uid = b.uid            # not readable here: the UID the lab gave it
            out.append(NodeStatus(name=b.name, state=state, pid=pid, host=b.host, address=b.address,
                                  uid=uid, sshd=answers, login=login))
        return out

    def _sshd_answers(self, pid: int, host: str) -> bool:
        """Whether the sshd of the node whose PID 1 is ``pid`` answers at ``host`` (asked over the lab's network)."""
        return sshd_answers(host, timeout=0.5)

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

    def describe(self) -> str:
        return "namespaces"


class NamespaceKind(kinds.LabKind):
    """Namespaces on this host: the host's kernel, clock and cores; the lab's boot script starts what is
    enabled, not systemd."""

    name = NAME
    title = "namespaces whose root is the host's root"
    flag = "host-root"
    traits = Traits(own_kernel=False, own_clock=False, own_cores=False, init_system=False)
    platform = LAB_PLATFORM
    lab_class = NamespaceLab

    def build(self, new: kinds.NewLab) -> None:
        build.build(name=new.name, count=new.count, network=new.network, image=new.image, labs_dir=new.labs_dir,
                    password=new.password, other_labs=new.other_labs, kind=self.name)


KIND = NamespaceKind()
kinds.register(KIND)

__all__ = ["NamespaceLab", "NamespaceKind", "KIND"]
