"""Notebook 04, second part: the learners' home folders, served by the primary over NFS and mounted on every node.

This is the NFS step (:class:`~clusterkit.steps.nfs.Nfs`) with ``/home`` as its
export and mount point, as every HPC cluster has it: a job's output lands in
the folder it was submitted from, and that folder is the same on the login
node (the primary) and on whichever node ran the job. Its exports block and
its fstab line are its own, beside the shared folder's.

Before a worker's ``/home`` is covered by the primary's, what it holds is
compared with the primary's, file by file (content digests, owners, modes):

- the same file on both: nothing to do;
- a file only the worker has: **moved** to the primary (written there with its
  owner and mode) before the worker mounts, so it is there after the mount;
- a file both have with different contents (or two workers with different
  copies): the step is **refused** before any node is touched, naming the node
  and the file, since sharing the folder would hide one of them.

Nothing is deleted: a worker's old copies stay underneath the mount point (seen
again if it is ever unmounted). The workbook's own session notes
(``~/.cache/clusterkit/sessions``, one per connection and node) are not compared.

A marker file, ``/home/.clusterkit-homes`` on the primary (a random token),
tells a worker whose ``/home`` is already the primary's: a plain "something is
mounted at /home" cannot (the lab binds a private ``/home`` into every node).
"""

from __future__ import annotations

import posixpath
import secrets
from shlex import quote as _q
from typing import TYPE_CHECKING

from .base import Command, FileChange, NodePlan, Reader, StepError
from .nfs import Nfs
from .nfsconf import HOMES_BEGIN, HOMES_END, HOMES_MARK

if TYPE_CHECKING:
    from ..cluster import Cluster

HOME = "/home"
#: On the primary: a token that a worker reads through its /home once that is the primary's.
MARKER = "/home/.clusterkit-homes"
#: What is never compared or moved: the lab's backing of the shared folder, the workbook's per-connection notes.
SKIPPED = ("./.clusterkit-export", "./lost+found", "./.clusterkit-homes", "*/.cache/clusterkit/sessions")
#: Above this many bytes to move, the step refuses and says how to move them by hand.
MOVE_LIMIT = 64 * 1024 * 1024
#: Prints ``UID GID MODE DIGEST SIZE PATH`` for every file and link under /home (DIGEST ``link:TARGET`` for a link).
MANIFEST = (
    "cd /home 2>/dev/null || exit 0; find . -xdev \\( "
    + " -o ".join(f"-path {_q(p)}" for p in SKIPPED)
    + " \\) -prune -o \\( -type f -o -type l \\) -print0 2>/dev/null | "
    "while IFS= read -r -d '' p; do "
    "if [ -L \"$p\" ]; then d=\"link:$(readlink \"$p\" | tr ' ' '?')\"; "
    "else d=$(sha256sum < \"$p\" 2>/dev/null | cut -c1-64); [ -n \"$d\" ] || d=unreadable; fi; "
    "printf '%s %s %s\\n' \"$(stat -c '%u %g %a' \"$p\")\" \"$d $(stat -c %s \"$p\")\" \"$p\"; done")


class SharedHomes(Nfs):
    """The learners' home folders: ``/home`` exported by ``server`` (the primary) and mounted on every worker.

    ``clients`` and ``mount_options`` are the NFS step's. Root is squashed (root on
    a worker is nobody in the shared homes), always.
    """

    title = "homes"
    markers = (HOMES_BEGIN, HOMES_END)
    what = "the learners' home folders"
    mark = HOMES_MARK

    def __init__(self, cluster: Cluster, *, server: str | None = None, clients: str | None = None,
                 mount_options: tuple[str, ...] = (), nodes=None):
        super().__init__(cluster, export=HOME, mount=HOME, server=server, clients=clients, root_squash=True,
                         mount_options=mount_options, nodes=nodes)
        self._token: str | None = None
        self.moves: dict[str, list[tuple[str, str, str, str]]] = {}

    def __repr__(self) -> str:
        return f"<SharedHomes {self.server}:{HOME} on {self.where}>"

    def _folder_command(self) -> str:
        return f"install -d -m 755 {HOME}"

    # ------------------------------------------------------------ reading
    def read(self, node, reader: Reader) -> dict:
        state = super().read(node, reader)
        state["marker"] = (reader.text(MARKER) or "").strip() if node.name == self.server else \
            node.platform.live(lambda: node.sudo(f"cat {MARKER} 2>/dev/null", timeout=30).stdout.strip(), otherwise="")
        state["files"] = node.platform.live(lambda: _manifest(node), otherwise={})
        return state

    def check(self, states: dict[str, dict]) -> None:
        """The NFS step's UID check, then what each worker's /home holds against the primary's."""
        super().check(states)
        token = states[self.server]["marker"] or self._token or secrets.token_hex(8)
        self._token = token
        primary = states[self.server]["files"]
        self.moves, total, first_from = {}, 0, {}
        for n in self.workers:
            s = states[n]
            if s["marker"] == token:
                continue          # its /home is the primary's already
            for path, (uid, gid, mode, digest, size) in sorted(s["files"].items()):
                theirs = primary.get(path)
                if theirs is not None:
                    if theirs[3] != digest:
                        raise StepError(f"/home/{path[2:]} differs from {self.server}'s copy: sharing the home "
                                        f"folders would hide this node's one; keep one of them (or rename it) first",
                                        node=n, field="home")
                    continue
                if path in first_from:
                    other, other_digest = first_from[path]
                    if other_digest != digest:
                        raise StepError(f"/home/{path[2:]} differs from {other}'s copy, and {self.server} has none: "
                                        "only one could be kept; keep one of them (or rename it) first",
                                        node=n, field="home")
                    continue
                if digest == "unreadable":
                    raise StepError(f"/home/{path[2:]} cannot be read by root here, so it cannot be moved safely",
                                    node=n, field="home")
                first_from[path] = (n, digest)
                total += int(size)
                self.moves.setdefault(n, []).append((path, uid, gid, mode))
        if total > MOVE_LIMIT:
            raise StepError(f"{total // 2**20} MiB of files in the workers' home folders are not on {self.server}: "
                            f"more than this step moves ({MOVE_LIMIT // 2**20} MiB); copy them there first "
                            f"(rsync -a /home/ {self.server}:/home/ as each person)", node=self.server, field="home")

    # ------------------------------------------------------------ planning
    def node_plan(self, node, s: dict, states) -> NodePlan:
        if node.name != self.server:
            shared = bool(s["marker"]) and s["marker"] == self._token
            rt = s["runtime"]
            s = dict(s, runtime=(rt | {"mounted"}) if shared else (rt - {"mounted"}))
            plan = super().node_plan(node, s, states)
            if self.moves.get(node.name):
                plan.notes.append(f"{len(self.moves[node.name])} file(s) only this node's /home had were moved to "
                                  f"{self.server} first; this node's copies stay underneath the mount")
            return plan
        plan = super().node_plan(node, s, states)
        marker = (self._token + "\n").encode()
        if (s["marker"] + "\n").encode() != marker:
            plan.actions.insert(0, FileChange(MARKER, None if not s["marker"] else (s["marker"] + "\n").encode(),
                                              marker, mode=0o644,
                                              why="tells a worker that its /home is this node's"))
        for source, moves in self.moves.items():
            for path, uid, gid, mode in moves:
                plan.actions += self._move(node, source, path, uid, gid, mode)
        return plan

    def _move(self, server, source: str, path: str, uid: str, gid: str, mode: str) -> list:
        """The actions that put ``source``'s file ``path`` (``./alice/notes.txt``) on the server, as it was."""
        full = posixpath.join(HOME, path[2:])
        parent = posixpath.dirname(full)
        node = self.cluster[source]
        link = node.platform.live(lambda: node.sudo(f"readlink {_q(full)}", timeout=30), otherwise=None)
        make_parent = Command(f"install -d -o {uid} -g {gid} {_q(parent)}" if parent != HOME else "true",
                              f"the folder of {full}")
        if link is not None and link.ok and link.stdout.strip():
            return [make_parent, Command(f"ln -sfn {_q(link.stdout.strip())} {_q(full)} && "
                                         f"chown -h {uid}:{gid} {_q(full)}", f"moved from {source}")]
        data = node.read_file(full, privileged=True)
        if data is None:
            raise StepError(f"{full} went away while the step read it; plan again", node=source, field="home")
        return [make_parent, FileChange(full, None, data, mode=int(mode, 8), why=f"moved from {source}"),
                Command(f"chown {uid}:{gid} {_q(full)}", f"{full}: its owner, as on {source}")]

    # ------------------------------------------------------------ checks
    def verify_node(self, node) -> str | None:
        line = super().verify_node(node)
        if node.name == self.server:
            return line
        r = node.sudo(f"cat {MARKER}", timeout=30)
        if r.stdout.strip() != self._token:
            raise StepError(f"/home here is not {self.server}'s (its marker file is missing or another)",
                            node=node.name, field="mount")
        return f"{line}; /home is {self.server}'s"

    def roundtrip(self, *, writer: str | None = None):
        """Write a file into the login's home folder on ``writer`` (a worker) and read it on every other node."""
        writer = writer or (self.workers[0] if self.workers else self.server)
        if any(self.cluster[n].platform.why_no_share() for n in self.names):
            from .nfs import _not_here
            return self.cluster.each(lambda n: _not_here(n, "the shared home folder"), nodes=self.names,
                                     command="read the file in the home folder")
        token = secrets.token_hex(4)
        w = self.cluster[writer].run(f"echo 'written on {writer} ({token})' > ~/hello-from-{writer}.txt && "
                                     f"echo wrote ~/hello-from-{writer}.txt", timeout=30)
        if not w.ok:
            raise StepError(f"could not write in the home folder: {w.summary()}", node=writer, field="mount")
        others = [n for n in self.names if n != writer]
        return self.cluster.run(f"cat ~/hello-from-{writer}.txt", nodes=others, timeout=30)


def _manifest(node) -> dict[str, tuple[str, str, str, str, str]]:
    """``./alice/notes.txt`` -> (uid, gid, mode, digest, size) for every file and link under the node's /home."""
    r = node.sudo(f"bash -c {_q(MANIFEST)}", timeout=120)
    if not r.ok:
        raise StepError(f"cannot list /home: {r.summary()}", node=node.name, field="home")
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split(" ", 5)
        if len(parts) == 6 and parts[5].startswith("./"):
            uid, gid, mode, digest, size, path = parts
            out[path] = (uid, gid, mode, digest, size)
    return out


__all__ = ["SharedHomes", "MARKER"]
