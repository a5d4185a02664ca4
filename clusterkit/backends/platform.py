"""How a kind of node does what a setup step wants: one :class:`Platform` per node, supplied by its backend.

A step says what it wants (its actions carried out as root or simulated into a
sandbox, a read of live state, a package, time kept, a share mounted, an NFS
server, a note for the learner) and the node's Platform says how, as commands
(:class:`Do`) or host binds (:class:`Bind`) with the reason for each; the step
wraps them into its plan (:func:`clusterkit.steps.actions.wanted`). So no step
asks what a node is.
This class is a board's (a real one or a virtual one): root, apt, systemd and a
clock of its own. The local backend's sandboxes, the namespace lab and any
other kind of node give their own subclass (see :class:`Node.platform`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from shlex import quote
from typing import TYPE_CHECKING, Callable, Protocol, TypeVar

from ..errors import ClusterkitError

if TYPE_CHECKING:
    from ..results import NodeResult
    from .base import Node

#: What a node runs as root to power off or reboot, ``sync`` first so nothing written is lost.
POWER_COMMANDS = {"poweroff": "sync; poweroff", "reboot": "sync; reboot"}

T = TypeVar("T")

#: systemd's default boot target: a link that ``systemctl set-default`` points at a unit, and what it boots without one.
DEFAULT_TARGET, SYSTEMD_DEFAULT = "/etc/systemd/system/default.target", "graphical.target"


@dataclass(frozen=True)
class Do:
    """One command a Platform wants run as root, with the reason a plan shows beside it."""

    command: str
    why: str = ""
    check: bool = True   #: whether a failure stops the node (False: the command may find nothing to do)


@dataclass(frozen=True)
class Bind:
    """A folder of one node bound into another by the backend, from the host (no command runs on the node)."""

    said: str                   #: the bind in words, for the plan
    why: str
    source_node: str
    source_path: str
    target: str


@dataclass(frozen=True)
class Reach:
    """Where the other nodes reach a server that a node runs: an address, a port, and the place in words."""

    host: str
    port: int
    where: str    #: "on pc0", or "on this machine (local backend)"


class Performable(Protocol):
    """A planned action, as a Platform carries it out (see :mod:`clusterkit.steps.actions`)."""

    def apply(self, run) -> None: ...

    def simulate(self, run) -> None: ...

    def undo(self, node, *, timeout: float | None = None) -> None: ...

    def unsimulate(self, node, *, timeout: float | None = None) -> None: ...


class Platform:
    """A board's ways: root, apt packages, systemd services and a clock that chrony may set."""

    #: A line for every plan on such nodes (None: nothing to say).
    note: str | None = None

    def perform(self, action: Performable, run) -> None:
        """Carry out one planned action on the node: here as root."""
        action.apply(run)

    def undo(self, action: Performable, node: Node, *, timeout: float | None = None) -> None:
        """Put back what :meth:`perform` did (a rollback)."""
        action.undo(node, timeout=timeout)

    def live(self, read: Callable[[], T], *, otherwise: T) -> T:
        """A read of the node's live state (a step's probe, its check after apply): run it here, where the
        node's changes are carried out; ``otherwise`` is for a node whose changes are simulated."""
        return read()

    def probe(self, node: Node, script: str, *, timeout: float = 30) -> set[str]:
        """The words a read-only root ``script`` prints on the node (what is installed, running, enabled)."""
        return set(node.sudo(script, timeout=timeout).stdout.split())

    def check_on_node(self, node: Node, script: str, *, stdin: str, timeout: float = 30) -> NodeResult | None:
        """Run a validator (``chronyd -p``) on the node; None where it cannot run there (then check here)."""
        return node.run(script, stdin=stdin, timeout=timeout)

    def have_package(self, package: str, *, installed: bool, why: str) -> list[Do]:
        """What gets ``package`` onto the node: apt, unless it is there."""
        if installed:
            return []
        return [Do(f"DEBIAN_FRONTEND=noninteractive apt-get install -y {package}", why)]

    def keep_time(self, *, conf: str, flags: set[str], changed: bool) -> list[Do]:
        """chrony as the one time client, set to the clock, started at boot and now with ``conf``.

        ``flags``: what :meth:`probe` found (``timesyncd``, ``enabled``, ``running``).
        """
        out = []
        if "timesyncd" in flags:
            out.append(Do("systemctl disable --now systemd-timesyncd", "one time client only", check=False))
        if "enabled" not in flags:  # installed but switched off (an image's choice, or an earlier disable)
            if "running" in flags:
                # Enabling a running chrony makes systemd lose track of it (the alias chronyd.service is
                # made while it runs; seen on Debian 13): its restart then fails on the orphan's port.
                out.append(Do("systemctl stop chrony", "stopped while it is enabled"))
            out.append(Do("systemctl enable chrony", "started at every boot"))
        if changed or "running" not in flags or "enabled" not in flags:
            out.append(Do("systemctl restart chrony", "read the new configuration"))
        return out

    def mount_share(self, *, server: str, export: str, mount: str, mounted: bool, changed: bool,
                    timeout: int) -> list[Do | Bind]:
        """What mounts ``server``'s ``export`` at ``mount`` now (the fstab line keeps it at boot): a kernel NFS
        mount, tried within ``timeout`` seconds, unless it is mounted."""
        if mounted:
            return []
        return [Do(f"timeout {timeout} mount -t nfs4 -o rw {server}:{quote(export)} {quote(mount)}",
                   "tried before the line is persisted")]

    def time_note(self) -> str | None:
        """What a time plan on such nodes should tell the learner about their clock."""
        return None

    def why_no_nfs_server(self) -> str | None:
        """Why such a node cannot serve an NFS export (one line), or None when it can."""
        return None

    def why_no_cluster_network(self) -> str | None:
        """Why such a node cannot reach the others over the cluster's network (a key login, a ping), or None
        when it can."""
        return None

    def why_apply_earlier_steps(self) -> str | None:
        """Why a notebook may apply the earlier notebooks' steps again on such a node before it starts (a line
        for its report), or None: it checks them, and stops where one is missing."""
        return None

    def needs_image(self, node: Node) -> bool:
        """Whether the node waits for this library to lay a fresh card's files on it (:meth:`lay_image`): never
        for a board, which its card made."""
        return False

    def lay_image(self, node: Node, files: dict[str, tuple[bytes, int]], *, hostname: str) -> bool:
        """Make the node a freshly imaged card: ``files`` (path -> content, mode) and a host key of its own for
        ``hostname``, as a first boot makes. False where that is no library's to do (a board's card): nothing
        is written."""
        return False

    def share_folder(self) -> KernelNfs:
        """How such a node serves a folder over NFS and checks a worker's mount (see :class:`KernelNfs`): the
        kernel's server on a board."""
        return KERNEL_NFS

    def why_no_share(self) -> str | None:
        """Why a live check of the shared folder cannot run on such a node (one line), or None when it can."""
        return None

    def start_service(self, service: Service, *, running: bool, enabled: bool, changed: bool) -> list[Do]:
        """What makes ``service`` start at every boot and run now: enabled and (re)started, then waited for,
        when it is not running or its files ``changed``; only enabled when it runs but is not. Here by systemd."""
        if changed or not running:
            why = "read the new files" if changed and running else "start"
            return [Do(self._enable_and_restart(service), f"{service.name}: {why}")]
        if not enabled:
            return [Do(f"systemctl enable --quiet {service.unit}", f"{service.name} at the next boot too")]
        return []

    def _enable_and_restart(self, service: Service) -> str:
        """The command that enables ``service`` and (re)starts it now, then waits until it is ready."""
        return f"systemctl enable --quiet {service.unit} && systemctl restart {service.unit} && {service.wait}"

    def services_note(self, daemons: str) -> str | None:
        """What a plan that starts ``daemons`` (in words) should tell the learner about how they start."""
        return None

    def boot_target(self, node: Node) -> NodeResult:
        """The target the node boots, as ``systemctl get-default`` says it (its stdout)."""
        return node.run("systemctl get-default", timeout=30)

    # ------------------------------------------------------------ outside the steps: clock, ops, compute
    def why_clock_unread(self) -> str | None:
        """Why no time service can say how far such a node's clock is (the note of its row), or None: ask its
        chronyd (``chronyc``)."""
        return None

    def clock_note(self) -> str | None:
        """What a table of clock offsets should say of such nodes' clocks (None: each is a clock of its own)."""
        return None

    def facts_note(self) -> str | None:
        """What a table of the nodes' facts (disk, load, uptime, pings, names, time offset) should say of such
        nodes when those facts are not each node's own; None where they are."""
        return None

    def sensor_note(self) -> str | None:
        """What a table of temperatures should say of such a node's sensor (None: it is the node's own)."""
        return None

    def look_up(self, node: Node, names: list[str]) -> str | None:
        """How ``names`` resolve on the node, as the DNS column says it ("ok", "FAIL: a,b"), where the node's own
        resolver is not what answers; None: the node's own lookup stands."""
        return None

    def reach_server(self, node: Node, *, port: int | None, usual: int) -> Reach:
        """Where the other nodes reach a server that ``node`` runs: its address (else its name), on ``port``
        (else ``usual``: the node has its ports to itself)."""
        return Reach(node.spec.address or node.name, port or usual, f"on {node.name}")

    def writable_folder(self, node: Node, folder: str) -> str | None:
        """The path by which programs started for the node (MPI ranks) open ``folder``, when its login user can
        write it there; None when it cannot (the folder is not shared yet)."""
        ok = node.run(f"test -d {quote(folder)} -a -w {quote(folder)}", timeout=30).ok
        return folder if ok else None

    def start_engines(self, ways):
        """How ipyparallel engines start on such nodes: one of ``ways`` (:mod:`clusterkit.compute.starters`' ways,
        handed in so that a backend imports nothing above it), or a starter of its own. A board's (and a lab
        node's): over the cluster's own SSH connections, on a leash each."""
        return ways.over_ssh

    def start_ranks(self, ways):
        """How MPI ranks start on such nodes: one of ``ways`` (:mod:`clusterkit.compute.mpi`'s, handed in so that
        a backend imports nothing above it). A board's start over SSH, from an ``mpiexec`` here."""
        return ways.over_ssh

    def why_no_daemons(self) -> str | None:
        """Why no daemon (a scheduler's, run as root) can run on such a node, or None when one can."""
        return None

    def power(self, node: Node, action: str, *, timeout: float | None) -> NodeResult:
        """Power the node off (``poweroff``) or reboot it (``reboot``): its own command as root, ``sync`` first.
        The row says whether the node may be going down (a refusal: it is not). On the namespace lab the same
        command reaches the lab's power shim, which stops or restarts only that node."""
        return node.sudo(POWER_COMMANDS[action], timeout=timeout)


@dataclass(frozen=True)
class Service:
    """A daemon a step wants started at every boot and now (see :meth:`Platform.start_service`)."""

    name: str    #: the daemon, as plans name it (``munged``)
    unit: str    #: its systemd unit (``munge``)
    ready: str   #: a shell test that holds once it serves
    log: str     #: the log whose tail says why it did not

    @property
    def wait(self) -> str:
        """A shell loop: up to 10 s for :attr:`ready`, else the log's tail and exit 1."""
        return (f"for i in $(seq 100); do {self.ready} && exit 0; sleep 0.1; done; "
                f"echo '{self.name} is not ready after 10 s' >&2; tail -n 5 {self.log} >&2; exit 1")


#: The platform of a board, real or virtual.
BOARD_PLATFORM = Platform()


# ---------------------------------------------------------------- sharing a folder over NFS
#: The NFS step says what it wants (:class:`Share`: this folder, to these clients) and the node's Platform
#: gives its way (:meth:`Platform.share_folder`): which files the server's plan reads, how its live state is
#: probed, what serves the folder (:class:`Do`, :class:`Write`, :class:`FstabLine`), and the checks after
#: apply. The namespace lab gives its own (nfs-ganesha, :mod:`clusterkit.lab.nfsserver`).
EXPORTS = "/etc/exports"


def managed_exports(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(path, clients, options) of every export line inside a clusterkit block of ``/etc/exports``, in order
    (what the lab's nfs-ganesha serves)."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("# BEGIN clusterkit nfs"):
            inside = True
            continue
        if line.startswith("# END clusterkit nfs"):
            inside = False
            continue
        m = re.match(r"^(\S+)\s+([^\s(]+)\(([^)]*)\)\s*$", line.split("#", 1)[0].strip())
        if inside and m:
            out.append((m.group(1), m.group(2), tuple(o for o in m.group(3).split(",") if o)))
    return out


@dataclass(frozen=True)
class Share:
    """A folder a step wants served over NFS: the path, the clients' subnet, root squashing, the command that
    makes the folder, and the whole ``/etc/exports`` the server should have."""

    export: str
    clients: str
    root_squash: bool
    folder: str
    exports: str


@dataclass(frozen=True)
class Write:
    """A whole file a way of serving wants on the node (the step diffs it against the text it read)."""

    path: str
    text: str
    why: str


@dataclass(frozen=True)
class FstabLine:
    """A line the node's fstab should carry for ``mount`` (the step renders and guards the whole fstab)."""

    line: str
    mount: str
    why: str


class KernelNfs:
    """A board's way: nfs-kernel-server (apt), started by systemd, its exports re-read with ``exportfs``."""

    #: Files the server's plan reads (their texts come back to :meth:`serve` as ``found``).
    reads: tuple[str, ...] = (EXPORTS,)
    #: What :meth:`probe` prints once the folder is served (a simulated node counts them as there).
    settled: frozenset[str] = frozenset({"dir", "installed", "serving", "exported"})
    #: A line for every NFS plan on such nodes (None: nothing to say).
    note: str | None = None
    #: The NFS version the server speaks: the workers' fstab line and their check (``nfs-ls``) ask for it.
    version: int = 4
    #: The server's systemd unit (what the step enables, and a node's boot starts).
    unit: str = "nfs-server"
    #: exports(5) options this server needs in every export, beside the step's (a step that asks for the
    #: opposite is refused).
    export_options: tuple[str, ...] = ()

    def probe(self, export: str) -> str:
        """A read-only root script printing which of :attr:`settled` hold now."""
        return (f"test -d {quote(export)} && echo dir; command -v exportfs >/dev/null && echo installed; "
                f"systemctl is-active --quiet {self.unit} && echo serving; "
                f"exportfs -v 2>/dev/null | grep -q '^{export}[[:space:]]' && echo exported")

    def serve(self, share: Share, *, platform: Platform, found: dict[str, str | None],
              flags: set[str]) -> list[Do | Write | FstabLine]:
        """What serves ``share`` on the server, in order, given the texts ``found`` and the live ``flags``."""
        changed = share.exports != (found.get(EXPORTS) or "")
        out: list[Do | Write | FstabLine] = []
        if "dir" not in flags:
            out.append(Do(share.folder, "the shared folder"))
        out.append(Write(EXPORTS, share.exports, f"export {share.export} to {share.clients} only"))
        out += platform.have_package("nfs-kernel-server", installed="installed" in flags,
                                     why="the kernel NFS server (from the package cache or mirror)")
        if "serving" not in flags:
            out.append(Do(f"systemctl enable --now {self.unit}", "the NFS server, at boot too"))
        if changed or "exported" not in flags:
            out += [Do("exportfs -ra", "re-read /etc/exports"), Do("exportfs -v", "list what is exported")]
        return out

    def check_server(self, node: Node, export: str) -> str:
        """After apply, on the server: a line saying it serves ``export``; raises when it does not."""
        r = node.sudo("exportfs -v", timeout=30)
        if export not in r.stdout:
            raise ClusterkitError(f"exportfs -v does not list {export}", node=node.name, field="export")
        return r.stdout.strip().splitlines()[0]

    def check_mount(self, node: Node, *, mounted: str, mount: str, server: str, export: str, nfs_ls: str) -> str:
        """After apply, on a worker where ``mounted`` (findmnt's SOURCE FSTYPE) is at ``mount``: a line to show."""
        return f"{mount}: {mounted}"


#: A board's way of sharing a folder, real or virtual.
KERNEL_NFS = KernelNfs()
