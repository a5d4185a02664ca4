"""The one Node interface every backend implements."""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from ..errors import NodeError
from ..inventory import NodeSpec
from ..results import NodeResult
from .platform import BOARD_PLATFORM, Platform

#: Suffix of the backup kept beside a file that clusterkit replaced.
BACKUP_SUFFIX = ".clusterkit.bak"
#: Suffix of the very first version of a file clusterkit changed, never overwritten.
ORIGINAL_SUFFIX = ".clusterkit.orig"


def backup_paths(path: str) -> tuple[str, str]:
    """Where the backup (the previous version) and the original (the image's version) of ``path`` live."""
    return path + BACKUP_SUFFIX, path + ORIGINAL_SUFFIX


class Stream(ABC):
    """A long-lived process on a node (the node agent): text lines in, text lines out.

    ``readline()`` returns "" once the process has ended; ``reason`` then says why.
    """

    @abstractmethod
    def send(self, line: str) -> None:
        """Write one line to the process's input (raises OSError once it is gone)."""

    @abstractmethod
    def readline(self) -> str:
        """The next line of its output, "" at the end."""

    @abstractmethod
    def close(self, *, timeout: float = 2.0) -> None:
        """Close its input (which asks it to stop), wait up to ``timeout``, then end it for good.

        Safe while another thread is in :meth:`readline` (that thread then reads the end).
        """

    @property
    @abstractmethod
    def reason(self) -> str | None:
        """Why it ended (exit status or signal), None while it runs."""


@dataclass(frozen=True)
class Traits:
    """What a kind of node has of its own; a board has all of it. Callers ask these, never a backend's name."""

    own_kernel: bool = True     #: its own kernel (a kernel NFS client and server, mounts from fstab)
    own_clock: bool = True      #: a clock that chrony may set (else chronyd runs with -x)
    own_cores: bool = True      #: cores no other node shares (else speedups across nodes are capped by the host)
    init_system: bool = True    #: systemd runs services, the boot target and fstab


#: A real board (or a virtual machine): everything of its own.
BOARD = Traits()


class Node(ABC):
    """One node of a cluster, on some backend.

    Commands return a :class:`NodeResult` and never raise for a remote failure;
    file operations raise :class:`~clusterkit.errors.NodeError` naming the node.
    """

    #: The backend's name: "local", "lab" or "ssh".
    backend: str = ""
    #: Whether privileged commands really run (False on the local backend).
    privileged: bool = True
    #: Seconds this node may take to open its connection before it counts as unreachable (0: it has none to open).
    connect_timeout: float = 0.0
    #: The known_hosts file its host key is pinned in, for a node reached over SSH (None: no host key).
    known_hosts: Path | None = None
    #: The key file OpenSSH-based tools (``mpiexec``) reach it with, once there is one (None: none).
    identity: Path | None = None
    #: What this kind of node has of its own (see :class:`Traits`).
    traits: Traits = BOARD
    #: The directory on this machine that stands for the node's root file system, where a node is one
    #: (the local backend's sandbox); None where the node's files are only reached through the node.
    sandbox: Path | None = None
    #: How this kind of node does what a setup step wants (see :mod:`.platform`): a board's by default.
    platform: Platform = BOARD_PLATFORM

    def __init__(self, spec: NodeSpec):
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def run(self, command: str, *, timeout: float | None = None, stdin: str | None = None) -> NodeResult:
        """Run a shell command as the login user."""

    @abstractmethod
    def sudo(self, command: str, *, timeout: float | None = None, stdin: str | None = None) -> NodeResult:
        """Run a shell command as root; the local backend refuses (status ``refused``) and says so."""

    @abstractmethod
    def read_file(self, path: str, *, privileged: bool = False) -> bytes | None:
        """A file's bytes, or None when it does not exist."""

    @abstractmethod
    def write_file(self, path: str, data: bytes, *, mode: int | None = None, privileged: bool = False,
                   backup: bool = True) -> str | None:
        """Replace ``path`` atomically: a temporary file beside it, then a rename.

        The old version is kept at ``path + BACKUP_SUFFIX`` (and the first one
        ever replaced at ``path + ORIGINAL_SUFFIX``). Returns the backup's path,
        or None when there was no old file.
        """

    def list_dir(self, path: str) -> list[str]:
        """Names in a directory on the node, as root (sorted); [] when it does not exist."""
        r = self.sudo(f"ls -1A -- {shlex.quote(path)} 2>/dev/null", timeout=30)
        return sorted(ln for ln in r.stdout.splitlines() if ln) if r.ok else []

    def put(self, local: str | Path, remote: str, *, mode: int | None = None) -> None:
        """Copy a local file to the node (atomically, like :meth:`write_file`)."""
        try:
            data = Path(local).read_bytes()
        except OSError as e:
            raise NodeError(f"cannot read local file {local}: {e.strerror}", node=self.name, field="local") from None
        self.write_file(remote, data, mode=mode, backup=False)

    def get(self, remote: str, local: str | Path) -> None:
        """Copy a file from the node to this machine."""
        data = self.read_file(remote)
        if data is None:
            raise NodeError(f"{remote} does not exist", node=self.name, field="path")
        Path(local).write_bytes(data)

    def open_stream(self, command: str) -> Stream:
        """Start ``command`` on the node over one long-lived channel, its input and output as lines."""
        raise NodeError(f"the {self.backend} backend cannot open a stream", node=self.name, field="stream")

    def local_path(self, path: str) -> Path:
        """Where a node path lives on this machine: only for a node with a :attr:`sandbox`."""
        raise NodeError(f"the {self.backend} backend's files are reached through the node, not on this machine",
                        node=self.name, field="path")

    def env(self) -> dict[str, str]:
        """The environment of a process on this machine that stands for the node (its name, its sandbox, its
        ``hostname``): only for a node of a backend whose nodes are this machine."""
        raise NodeError(f"the {self.backend} backend's processes run on the node, not on this machine",
                        node=self.name, field="environment")

    def close(self) -> None:
        """Release connections; the node may be used again afterwards (it reconnects)."""

    def close_twins(self) -> int:
        """Close every other connection this process holds to this node under the same login (another
        :class:`~clusterkit.Cluster` made earlier in the same kernel); returns how many were open."""
        return 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
