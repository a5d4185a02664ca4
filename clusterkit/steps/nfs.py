"""Notebook 04: one shared folder, exported by the primary over NFS and mounted by every worker at the same path.

On the primary, ``/etc/exports`` gets a managed line: the cluster subnet,
``rw,sync,no_subtree_check`` and root squashing unless asked otherwise; the
server is reloaded (``exportfs -ra``) and lists it. Files on NFS are owned by
numbers, so the step refuses to run while a person's UID differs between
nodes (notebook 01 makes them equal).

On every worker the folder is mounted at the same path, and the fstab line
carries options that never stop a boot when the server is away (``nofail``,
``_netdev``, an automount with a mount timeout). The mount is tried first;
only then is the line persisted, and only after the whole candidate fstab
passed the guard of :mod:`.fstab`. The old fstab is kept as a backup, and
:meth:`Nfs.rollback` puts it back.

How the folder is served, mounted and checked is the nodes' own way, given by
their Platform (:meth:`~clusterkit.backends.platform.Platform.share_folder`,
:meth:`~clusterkit.backends.platform.Platform.mount_share`): on boards
nfs-kernel-server and kernel mounts; the lab's is in :mod:`clusterkit.lab.nfsserver`,
and its plans say so.
"""

from __future__ import annotations

import ipaddress
import secrets
import shlex
from dataclasses import dataclass
from functools import partial
from shlex import quote as _q
from typing import TYPE_CHECKING

from ..backends.platform import EXPORTS, FstabLine, Share, Write
from ..results import NodeResult
from . import fstab as fstab_guard
from .accounts import NAME, UID_MAX, UID_MIN, table
from .actions import wanted
from .base import Command, FileChange, NodePlan, Reader, Step, StepError
from .nfsconf import (EXPORTS_BEGIN, EXPORTS_END, FSTAB_MARK, SAFE_MOUNT, check_clients, check_path, export_options,
                      exports_text, fstab_line, fstab_text, mount_options)

if TYPE_CHECKING:
    from ..cluster import Cluster

FSTAB = "/etc/fstab"
#: Seconds a worker's first mount may take before it counts as failed (never a hang).
MOUNT_TIMEOUT = 30
#: What a worker's probe prints once the share is there (a simulated node counts them as there).
MOUNTED = frozenset({"dir", "mounted"})


@dataclass(frozen=True)
class GuardedFstab(FileChange):
    """A new fstab that passes the guard of :mod:`.fstab` once more, on the node, right before it replaces the old
    one; when it does not, ``unmount`` (the mount the step just made) is undone and the node stops."""

    unmount: str = ""

    def check(self, node) -> None:
        if self.new is None:
            return
        old = (node.read_file(self.path, privileged=True) or b"").decode()
        try:
            fstab_guard.guard(old, self.new.decode(), node_name=node.name, node=node)
        except StepError:
            node.sudo(f"umount {_q(self.unmount)}", timeout=30)
            raise


def running(node, s: dict, *, changed: bool, settled: frozenset[str]) -> set[str]:
    """What the node has running, as its plan counts it: what its probe printed; on a node whose changes are
    simulated, what its files say (all of ``settled`` while they stay as they are, none once they change)."""
    return node.platform.live(lambda: s["runtime"], otherwise=set() if changed else set(settled))


class Nfs(Step):
    """Export ``export`` from ``server`` (the primary) to ``clients`` and mount it at ``mount`` on every worker.

    ``mount`` defaults to ``export``, so the shared folder has the same path on
    every node (MPI programs run from it). ``owner``: a person who owns the
    folder (group-writable, setgid); None: a sticky folder anyone may write to,
    like /tmp. ``mount_options``: extra fstab options for the workers.
    """

    title = "nfs"
    phases = 2  # the server first; the workers mount once it serves
    #: The markers of this step's block in ``/etc/exports``, what the block serves, and the fstab mark of its line.
    markers = (EXPORTS_BEGIN, EXPORTS_END)
    what = "the cluster's shared folder"
    mark = FSTAB_MARK

    def __init__(self, cluster: Cluster, *, export: str = "/srv/shared", mount: str | None = None,
                 server: str | None = None, clients: str | None = None, root_squash: bool = True,
                 export_options: tuple[str, ...] = (), mount_options: tuple[str, ...] = (),
                 owner: str | None = None, nodes=None):
        super().__init__(cluster, nodes=nodes)
        inv = cluster.inventory
        self.export = export
        self.mount = export if mount is None else mount
        self.server = inv.primary if server is None else server
        self.clients = clients if clients is not None else (str(inv.network) if inv.network else None)
        self.root_squash = root_squash
        self.extra_export = export_options
        self.extra_mount = mount_options
        self.owner = owner

    def __repr__(self) -> str:
        return f"<Nfs {self.server}:{self.export} -> {self.mount} on {self.where}>"

    @property
    def workers(self) -> list[str]:
        return [n for n in self.names if n != self.server]

    @property
    def way(self):
        """How the server's nodes serve the folder (:class:`~clusterkit.backends.platform.KernelNfs`): its NFS
        version and the export options it needs come from there."""
        return self.cluster[self.server].platform.share_folder()

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        where = self.where
        check_path(self.export, fld="export", where=where)
        check_path(self.mount, fld="mount", where=where)
        if self.server not in self.cluster.inventory.nodes:
            raise StepError(f"{self.server!r} is not a node of this cluster ({self.cluster.nodeset})",
                            node=str(self.server), field="server")
        if self.server not in self.names:
            raise StepError("the server must be one of the nodes this step works on", node=self.server,
                            field="server")
        why = self.cluster[self.server].platform.why_no_nfs_server()
        if why:
            raise StepError(f"cannot serve the shared folder: {why}", node=self.server, field="server")
        if self.clients is None:
            raise StepError("the inventory has no cluster network; give clients='10.0.0.0/24'", node=where,
                            field="clients")
        net = check_clients(self.clients, where=where)
        self.clients = str(net)
        addr = self.cluster.inventory[self.server].address
        if addr is not None and ipaddress.IPv4Address(addr) not in net:
            raise StepError(f"the server's address {addr} is outside {net}", node=self.server, field="clients")
        if not isinstance(self.root_squash, bool):
            raise StepError("must be True or False", node=where, field="root_squash")
        way = self.way
        self.options = export_options(tuple(self.extra_export), root_squash=self.root_squash, where=where,
                                      server_needs=way.export_options)
        extra = tuple(self.extra_mount.split(",")) if isinstance(self.extra_mount, str) else tuple(self.extra_mount)
        for opt in extra:
            problem = fstab_guard.option_problem(str(opt), "nfs")   # nfs4 and nfs (v3) take the same options
            if problem:
                raise StepError(problem, node=where, field="mount_options")
            if opt == "noauto":
                raise StepError("noauto would leave the folder unmounted after a boot", node=where,
                                field="mount_options")
        self.mount_opts = mount_options(extra, version=way.version)
        if self.owner is not None and not (isinstance(self.owner, str) and NAME.match(self.owner)):
            raise StepError(f"{self.owner!r} is not a user name", node=where, field="owner")

    # ------------------------------------------------------------ reading
    def read(self, node, reader: Reader) -> dict:
        state = {"passwd": reader.text("/etc/passwd") or ""}
        reads = node.platform.share_folder().reads if node.name == self.server else (FSTAB,)
        state["found"] = {path: reader.text(path) for path in reads}
        state["runtime"] = node.platform.live(partial(self._runtime, node), otherwise=set())
        return state

    def _runtime(self, node) -> set[str]:
        if node.name == self.server:
            script = node.platform.share_folder().probe(self.export)
        else:
            script = (f"test -d {_q(self.mount)} && echo dir; "
                      f"findmnt -n --mountpoint {_q(self.mount)} >/dev/null && echo mounted")
        return set(node.sudo(script, timeout=30).stdout.split())

    def check(self, states: dict[str, dict]) -> None:
        """Refuse while a person's UID (or the person behind a UID) differs between nodes."""
        order = [self.server] + [n for n in self.names if n != self.server]
        by_name: dict[str, tuple[int, str]] = {}
        by_uid: dict[int, tuple[str, str]] = {}
        for n in order:
            for user, row in table(states[n]["passwd"]).items():
                try:
                    uid = int(row[2])
                except (IndexError, ValueError):
                    continue
                if not UID_MIN <= uid <= UID_MAX:
                    continue
                if user in by_name and by_name[user][0] != uid:
                    first_uid, first = by_name[user]
                    raise StepError(f"user {user!r} has UID {uid} here but {first_uid} on {first}: files on the "
                                    "share would change owners between nodes; give every person one UID first "
                                    "(notebook 01)", node=n, field="uid")
                if uid in by_uid and by_uid[uid][0] != user:
                    other, first = by_uid[uid]
                    raise StepError(f"UID {uid} is {user!r} here but {other!r} on {first}: their files would "
                                    "change owners on the share (notebook 01)", node=n, field="uid")
                by_name.setdefault(user, (uid, n))
                by_uid.setdefault(uid, (user, n))
        if self.owner is not None and self.owner not in by_name:
            raise StepError(f"no person {self.owner!r} on the nodes (notebook 01 adds one)", node=self.server,
                            field="owner")

    # ------------------------------------------------------------ planning
    def node_plan(self, node, s: dict, states) -> NodePlan:
        return self._server_plan(node, s) if node.name == self.server else self._worker_plan(node, s)

    def _folder_command(self) -> str:
        if self.owner:
            return f"install -d -o {self.owner} -g {self.owner} -m 2775 {_q(self.export)}"
        return f"install -d -m 1777 {_q(self.export)}"

    def _server_plan(self, node, s: dict) -> NodePlan:
        way, found = node.platform.share_folder(), s["found"]
        exports = exports_text(found[EXPORTS] or "", export=self.export, clients=self.clients, options=self.options,
                               markers=self.markers, what=self.what)
        share = Share(self.export, self.clients, self.root_squash, self._folder_command(), exports)
        flags = running(node, s, changed=exports != (found[EXPORTS] or ""), settled=way.settled)
        plan = NodePlan(node.name)
        for want in way.serve(share, platform=node.platform, found=found, flags=flags):
            plan.actions += self._action(node, want, found)
        return plan

    def _action(self, node, want, found: dict[str, str | None]) -> list:
        """The plan's action for one thing the server's way wants (none for a file already as wanted)."""
        if isinstance(want, Write):
            old = found[want.path]
            return [] if want.text == (old or "") else [FileChange(want.path, _b(old), want.text.encode(), mode=0o644,
                                                                    why=want.why)]
        if isinstance(want, FstabLine):
            old = found[FSTAB] or ""
            new = fstab_text(old, line=want.line, mount=want.mount, node=node.name, mark=self.mark)
            return [] if new == old else [GuardedFstab(FSTAB, _b(found[FSTAB]), new.encode(), mode=0o644,
                                                       unmount=self.mount, why=want.why)]
        return wanted([want])

    def _worker_plan(self, node, s: dict) -> NodePlan:
        plan = NodePlan(node.name)
        old = s["found"][FSTAB] or ""
        line = fstab_line(server=self.server, export=self.export, mount=self.mount, options=self.mount_opts,
                          version=self.way.version)
        new = fstab_text(old, line=line, mount=self.mount, node=node.name, mark=self.mark)
        changed = new != old
        flags = running(node, s, changed=changed, settled=MOUNTED)
        if changed:
            verdict = fstab_guard.guard(old, new, node_name=node.name, node=node, creates=(self.mount,))
            if verdict.already:
                plan.notes.append(f"the current fstab already has {len(verdict.already)} problem(s) this step "
                                  f"did not make, e.g. {verdict.already[0]}")
            plan.notes.append(f"the whole candidate fstab passed {verdict.checked_by}")
        if "dir" not in flags:
            plan.actions.append(Command(f"install -d -m 755 {_q(self.mount)}", "the mount point", phase=1))
        plan.actions += wanted(node.platform.mount_share(server=self.server, export=self.export, mount=self.mount,
                                                         mounted="mounted" in flags, changed=changed,
                                                         timeout=MOUNT_TIMEOUT), phase=1)
        if changed:
            plan.actions.append(GuardedFstab(FSTAB, _b(s["found"][FSTAB]), new.encode(),
                                             mode=0o644, phase=1, unmount=self.mount,
                                           why="mounted at boot; nofail and an automount keep the boot going "
                                               "without the server"))
        return plan

    def plan_notes(self) -> list[str]:
        notes = dict.fromkeys(self.cluster[n].platform.share_folder().note for n in self.names)
        return [note for note in notes if note] + super().plan_notes()

    def gate(self, phase, plan, nodes, outcomes) -> dict[str, str | None]:
        return self.after(self.server, "the server", nodes, outcomes)

    # ------------------------------------------------------------ undoing
    def rollback(self, *, nodes=None):
        """Put back every worker's previous fstab (its ``.clusterkit.bak``), unmounting the share first."""
        from ..backends.base import BACKUP_SUFFIX

        def back(node):
            saved = node.read_file(FSTAB + BACKUP_SUFFIX, privileged=True)
            if saved is None:
                raise StepError("no backup of /etc/fstab to put back", node=node.name, field=FSTAB)
            node.sudo(f"umount {_q(self.mount)} 2>/dev/null", timeout=30)   # a sandbox refuses: nothing mounted
            node.write_file(FSTAB, saved, privileged=True, backup=False)
            line = f"{FSTAB} is its previous version again"
            return NodeResult.done(node.name, line, stdout=line + "\n", command="rollback /etc/fstab")
        workers = [n for n in self.cluster.inventory.select(nodes) if n != self.server]
        return self.cluster.each(back, nodes=workers, command="rollback /etc/fstab")

    # ------------------------------------------------------------ checks
    def verify_node(self, node) -> str | None:
        way = node.platform.share_folder()
        if node.name == self.server:
            return way.check_server(node, self.export)
        r = node.sudo(f"findmnt -n -o SOURCE,FSTYPE --mountpoint {_q(self.mount)}", timeout=30)
        if not r.ok:
            raise StepError(f"nothing is mounted at {self.mount}", node=node.name, field="mount")
        return way.check_mount(node, mounted=r.stdout.strip(), mount=self.mount, server=self.server,
                               export=self.export, nfs_ls=self.nfs_ls_command())

    def nfs_ls_command(self) -> str:
        host = self.cluster.inventory[self.server].address or self.server
        return f"nfs-ls {shlex.quote(f'nfs://{host}{self.export}?version={self.way.version}')}"

    def nfs_ls(self):
        """The real server, asked by every worker with libnfs (``nfs-ls``): the lab's proof that NFS serves.

        Not run where the nodes' Platform says there is no share to try (the local backend: no server runs there).
        """
        command = self.nfs_ls_command()
        return self.cluster.each(lambda n: _not_here(n, "nfs-ls") if n.platform.why_no_share() else
                                 n.run(command, timeout=30), nodes=self.workers, timeout=30, command=command)

    def roundtrip(self, *, writer: str | None = None):
        """Write a file into the shared folder on ``writer`` (a worker) and read it on every other node.

        The gathered view shows one block when every node read the same words.
        """
        writer = writer or (self.workers[0] if self.workers else self.server)
        if any(self.cluster[n].platform.why_no_share() for n in self.names):
            return self.cluster.each(lambda n: _not_here(n, "the shared folder"), nodes=self.names,
                                     command="read the shared file")
        name = f"{self.mount}/hello-from-{writer}.txt"
        token = secrets.token_hex(4)
        w = self.cluster[writer].run(f"echo 'written on {writer} ({token})' > {_q(name)} && echo wrote {name}",
                                     timeout=30)
        if not w.ok:
            raise StepError(f"could not write {name}: {w.summary()}", node=writer, field="mount")
        others = [n for n in self.names if n != writer]
        return self.cluster.run(f"cat {_q(name)}", nodes=others, timeout=30)


def _not_here(node, what: str) -> NodeResult:
    return NodeResult.failure(node.name, "refused", f"{node.platform.why_no_share()}: {what} is not there to try")


def _b(text: str | None) -> bytes | None:
    return None if text is None else text.encode()
