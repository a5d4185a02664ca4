"""The local backend's platform: a node is a folder of this machine, and nothing runs as root.

Every action is simulated into the node's sandbox (files written, commands
listed as "would run"); a plan lists the commands a board would run.
"""

from __future__ import annotations

import os
import posixpath
import socket
import subprocess
from typing import TYPE_CHECKING, Callable

from ..results import NodeResult
from .base import BACKUP_SUFFIX, ORIGINAL_SUFFIX
from .platform import DEFAULT_TARGET, SYSTEMD_DEFAULT, Bind, Do, Performable, Platform, Reach, Service, T

if TYPE_CHECKING:
    from .base import Node


class SandboxPlatform(Platform):
    """Simulate into the sandbox: read nothing live, check configurations here, list what a board would run."""

    note = ("local backend: apply writes these files into each node's sandbox and lists the "
            "privileged commands a real node would run; it runs none of them")

    def perform(self, action: Performable, run) -> None:
        action.simulate(run)

    def undo(self, action: Performable, node: Node, *, timeout: float | None = None) -> None:
        action.unsimulate(node, timeout=timeout)

    def live(self, read: Callable[[], T], *, otherwise: T) -> T:
        return otherwise     # nothing ran here: the sandbox's files, read again, are the check

    def probe(self, node: Node, script: str, *, timeout: float = 30) -> set[str]:
        return set()

    def check_on_node(self, node: Node, script: str, *, stdin: str, timeout: float = 30) -> NodeResult | None:
        return None

    def have_package(self, package: str, *, installed: bool, why: str) -> list[Do]:
        return []

    def keep_time(self, *, conf: str, flags: set[str], changed: bool) -> list[Do]:
        if not changed:
            return []
        return [Do("systemctl disable --now systemd-timesyncd", "one time client only", check=False),
                Do("systemctl restart chrony", "read the new configuration")]

    def mount_share(self, *, server: str, export: str, mount: str, mounted: bool, changed: bool,
                    timeout: int) -> list[Do | Bind]:
        return super().mount_share(server=server, export=export, mount=mount, mounted=not changed,
                                   changed=changed, timeout=timeout)

    def why_no_cluster_network(self) -> str | None:
        return "the local backend has no cluster network"   # a sandbox is this machine: nothing is sent anywhere

    def why_apply_earlier_steps(self) -> str | None:
        return ("the nodes are sandbox folders on this machine, so the earlier steps are applied into them again "
                "(only files; nothing runs)")

    def needs_image(self, node: Node) -> bool:
        return node.read_file("/etc/passwd") is None

    def lay_image(self, node: Node, files: dict[str, tuple[bytes, int]], *, hostname: str) -> bool:
        for path, (data, mode) in files.items():
            target = node.local_path(path)
            for suffix in (BACKUP_SUFFIX, ORIGINAL_SUFFIX):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
            node.write_file(path, data, mode=mode, backup=False)
        key = node.local_path("/etc/ssh/ssh_host_ed25519_key")
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{hostname}", "-f", str(key)],
                           check=True, capture_output=True)
        return True

    def why_no_share(self) -> str | None:
        return "the local backend has no NFS"

    def start_service(self, service: Service, *, running: bool, enabled: bool, changed: bool) -> list[Do]:
        if not changed:   # nothing runs here: what a board would run once its files change
            return []
        return [Do(f"systemctl enable {service.unit} && systemctl restart {service.unit}",
                   f"{service.name} reads the new files")]

    def boot_target(self, node: Node) -> NodeResult:
        link = node.local_path(posixpath.dirname(DEFAULT_TARGET)) / posixpath.basename(DEFAULT_TARGET)  # not followed
        target = os.path.basename(os.readlink(link)) if os.path.islink(link) else SYSTEMD_DEFAULT
        return NodeResult.done(node.name, target, stdout=target + "\n", command="systemctl get-default")

    # ------------------------------------------------------------ outside the steps: clock, ops, compute
    def why_clock_unread(self) -> str | None:
        return "not measured: no chronyd runs on the local backend"

    def clock_note(self) -> str | None:
        return "local backend: the nodes are sandboxes on this machine; no time service runs"

    def facts_note(self) -> str | None:
        return ("local backend: every node is this machine, so disk, load and uptime are this machine's; "
                "no cluster network to ping and no chronyd (n/a); names are looked up in each sandbox's /etc/hosts")

    def sensor_note(self) -> str | None:
        return "local backend: every node is this machine, so this is this machine's sensor"

    def look_up(self, node: Node, names: list[str]) -> str | None:
        """Whether every name is in the sandbox's ``/etc/hosts`` (its stand-in for a lookup)."""
        hosts = (node.read_file("/etc/hosts") or b"").decode()
        known = {w for line in hosts.splitlines() if not line.startswith("#") for w in line.split()[1:]}
        failed = [n for n in names if n not in known]
        return "ok (/etc/hosts)" if not failed else "FAIL: " + ",".join(failed)

    def reach_server(self, node: Node, *, port: int | None, usual: int) -> Reach:
        """This machine's loopback: the nodes share its network, so a free port of it unless one is given."""
        return Reach("127.0.0.1", port or _free_port(), "on this machine (local backend)")

    def writable_folder(self, node: Node, folder: str) -> str | None:
        """The sandbox's copy of ``folder``, made if missing (the sandbox is the user's own): the ranks run here."""
        path = node.local_path(folder)
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def start_engines(self, ways):
        """Engines on this machine, one set per node, each with its node's environment."""
        return ways.here

    def start_ranks(self, ways):
        return ways.here

    def why_no_daemons(self) -> str | None:
        return "the local backend has no root: no daemon runs on its nodes"


def _free_port() -> int:
    """A TCP port of this machine's loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The platform of every sandbox node.
SANDBOX = SandboxPlatform()
