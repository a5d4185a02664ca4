"""The namespace lab's platform: nodes that share this host's kernel, clock and packages, with no systemd.

Each lab node is a set of namespaces: its programs are the host's (so a package
is there or not, apt is never run), its clock is the host's (so chronyd runs
with ``-x``: it measures and serves time but never sets the clock), and the
lab's boot script starts what is enabled, in place of systemd. Its kernel has no
NFS client, so a worker's share is the primary's folder bound from the host.
"""

from __future__ import annotations

from ..backends.platform import Bind, Do, KernelNfs, Platform, Service
from .nfsserver import GANESHA
from .services import NO_SYSTEMD, by_hand
from .unfs3 import UNFS3

#: Start (or restart) chronyd on a lab node with ``-x``, from the configuration ``{conf}``.
LAB_START = ("install -d -m 755 /run/chrony /var/lib/chrony; "
             "if p=$(cat /run/chrony/chronyd.pid 2>/dev/null) && kill -0 \"$p\" 2>/dev/null; then kill \"$p\"; "
             "for i in $(seq 50); do kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done; fi; "
             "chronyd -x -f {conf}")
TIME_NOTE = ("lab: every node shares this machine's clock, so chronyd runs with -x (it measures and serves "
             "time but never sets the clock); the skew you see is chrony's own estimate")


class LabPlatform(Platform):
    """The namespace lab's ways: the host's packages, the lab's boot links, chronyd with -x."""

    def have_package(self, package: str, *, installed: bool, why: str) -> list[Do]:
        return []

    def keep_time(self, *, conf: str, flags: set[str], changed: bool) -> list[Do]:
        out = []
        if "enabled" not in flags:
            out.append(Do("systemctl enable chrony", "started at every boot"))
        if changed or "running" not in flags:
            out.append(Do(LAB_START.format(conf=conf), "chronyd with -x: the lab's clock is the host's"))
        return out

    def mount_share(self, *, server: str, export: str, mount: str, mounted: bool, changed: bool,
                    timeout: int) -> list[Do | Bind]:
        if mounted:
            return []
        return [Bind(f"(lab, on the host) bind {server}:{export} at {mount}",
                     "this kernel has no NFS client: the lab binds the primary's folder",
                     source_node=server, source_path=export, target=mount)]

    def time_note(self) -> str | None:
        return TIME_NOTE

    def share_folder(self) -> KernelNfs:
        return GANESHA

    def _enable_and_restart(self, service: Service) -> str:
        return by_hand(service)

    def services_note(self, daemons: str) -> str | None:
        return NO_SYSTEMD.format(daemons=daemons)

    def clock_note(self) -> str | None:
        return "lab: every node shares this machine's clock (chronyd -x); the offsets are chrony's estimates"


#: The platform of every namespace lab node.
LAB_PLATFORM = LabPlatform()


class UsernsLabPlatform(LabPlatform):
    """A user-namespace lab's ways (:mod:`.rootless`): the namespace lab's, but its NFS server is unfs3."""

    def share_folder(self) -> KernelNfs:
        return UNFS3


#: The platform of every node of a user-namespace lab.
USERNS_PLATFORM = UsernsLabPlatform()
