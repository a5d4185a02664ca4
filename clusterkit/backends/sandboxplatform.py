"""The local backend's platform: a node is a folder of this machine, and nothing runs as root.

Every action is simulated into the node's sandbox (files written, commands
listed as "would run"); a plan lists the commands a board would run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .platform import Do, Performable, Platform

if TYPE_CHECKING:
    from ..results import NodeResult
    from .base import Node


class SandboxPlatform(Platform):
    """Simulate into the sandbox: read nothing live, check configurations here, list what a board would run."""

    note = ("local backend: apply writes these files into each node's sandbox and lists the "
            "privileged commands a real node would run; it runs none of them")

    def perform(self, action: Performable, run) -> None:
        action.simulate(run)

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


#: The platform of every sandbox node.
SANDBOX = SandboxPlatform()
