"""The local backend's platform: a node is a folder of this machine, and nothing runs as root.

Every action is simulated into the node's sandbox (files written, commands
listed as "would run"); a plan lists the commands a board would run.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from typing import TYPE_CHECKING, Callable

from ..results import NodeResult
from .base import BACKUP_SUFFIX, ORIGINAL_SUFFIX
from .platform import DEFAULT_TARGET, SYSTEMD_DEFAULT, Bind, Do, Performable, Platform, Service, T

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


#: The platform of every sandbox node.
SANDBOX = SandboxPlatform()
