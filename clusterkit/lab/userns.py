"""A lab's user namespace: which host ids its nodes' ids are, and the process that holds the namespace.

Every node of a lab of this kind runs in one user namespace that belongs to the lab. Its ids 0..65535 (root,
the image's system users, ``pi`` 1000, ``slurm`` 64030, ``nobody`` 65534) are unprivileged ids of the host,
so root on a node is nobody special on the host:

- a lab started by a normal user maps the node's root to that user's own uid, and 1..65535 to the user's
  subordinate ranges in ``/etc/subuid`` and ``/etc/subgid``, as rootless Podman does; ``newuidmap`` and
  ``newgidmap`` (Debian's ``uidmap``) write the map, since only they may map ids the user does not own;
- a lab started by root maps 0..65535 to root's own range there, and writes the map itself.

One namespace per lab (not per node): a uid is the same host id on every node, as NFS expects, and two labs
of different users share no id. The namespace is held by one process, ``unshare --user --net --pid --fork``
whose shell waits until its map is written; the lab's network namespace (bridges, router) is that process's,
and every node is entered from it (:func:`enter`).

Two traps met while trying this on the host: a process that enters the namespace keeping its host uid
(``nsenter --preserve-credentials`` as root, or ``unshare --user`` without becoming root inside) is still
host uid 0 for the owners of files, so it may write the host's ``/usr``: :func:`enter` always becomes the
namespace's root. And ``unshare --kill-child`` loses its effect when the child changes its uid, so a node is
stopped by killing its PID 1, and so is the holder (:func:`release`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ClusterkitError
from . import procs

#: Ids a node has: 0..65535 (``nobody`` is 65534, Debian's ``slurm`` 64030).
SIZE = 65536
SUBUID, SUBGID = Path("/etc/subuid"), Path("/etc/subgid")
#: Where ``useradd`` starts subordinate ranges (login.defs ``SUB_UID_MIN``).
FIRST_SUBID = 100000

#: The holder's shell: wait until the namespace has its map, then hold it.
HOLD = 'until [ -n "$(cat /proc/self/uid_map)" ]; do sleep 0.01; done; exec sleep infinity'


@dataclass(frozen=True)
class Range:
    """A subordinate id range of ``/etc/subuid`` or ``/etc/subgid``: ``count`` ids from ``start``."""

    start: int
    count: int

    @property
    def end(self) -> int:
        """The last id of the range."""
        return self.start + self.count - 1


@dataclass(frozen=True)
class Extent:
    """One line of a namespace's id map: ``count`` ids from ``inside`` are host ids from ``outside``."""

    inside: int
    outside: int
    count: int


@dataclass(frozen=True)
class IdMap:
    """A namespace's uid (or gid) map: ids 0..size-1 inside, each a host id outside."""

    extents: tuple[Extent, ...]

    @property
    def size(self) -> int:
        return sum(e.count for e in self.extents)

    def text(self) -> str:
        """The map as ``/proc/PID/uid_map`` takes it (one write, every line)."""
        return "".join(f"{e.inside} {e.outside} {e.count}\n" for e in self.extents)

    def args(self) -> list[str]:
        """The map as ``newuidmap PID ...`` and ``newgidmap PID ...`` take it."""
        return [str(n) for e in self.extents for n in (e.inside, e.outside, e.count)]

    def to_host(self, inside: int) -> int | None:
        """The host id of id ``inside`` of the namespace (None: not mapped)."""
        for e in self.extents:
            if e.inside <= inside < e.inside + e.count:
                return e.outside + inside - e.inside
        return None

    def to_inside(self, host: int) -> int | None:
        """The namespace's id for host id ``host`` (None: it shows as ``nobody`` inside)."""
        for e in self.extents:
            if e.outside <= host < e.outside + e.count:
                return e.inside + host - e.outside
        return None


@dataclass(frozen=True)
class LabIds:
    """Who owns a lab, and its uid and gid maps."""

    owner: str
    uid: int
    uids: IdMap
    gids: IdMap

    @property
    def by_root(self) -> bool:
        return self.uid == 0


def parse(text: str, *, name: str, ident: int) -> list[Range]:
    """The ranges of user ``name`` (or of its numeric id ``ident``) in the text of ``/etc/subuid`` or
    ``/etc/subgid``, in file order; comments, blank and malformed lines are passed over."""
    out = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].strip().split(":")
        if len(fields) != 3 or fields[0] not in (name, str(ident)):
            continue
        try:
            start, count = int(fields[1]), int(fields[2])
        except ValueError:
            continue
        if start >= 0 and count > 0:
            out.append(Range(start, count))
    return out


def user_map(own: int, ranges: list[Range], *, size: int = SIZE, what: str = "uid") -> IdMap:
    """0 -> the user's own id ``own``; 1..size-1 -> the user's subordinate ``ranges``, in order."""
    if any(r.start <= own <= r.end for r in ranges):
        raise ClusterkitError(f"a subordinate {what} range contains the user's own {what} {own}", field=f"sub{what}")
    return IdMap((Extent(0, own, 1),) + _fill(ranges, first=1, size=size, what=what))


def root_map(ranges: list[Range], *, size: int = SIZE, what: str = "uid") -> IdMap:
    """0..size-1 -> root's subordinate ``ranges``, in order (root's own id 0 is never a lab's)."""
    return IdMap(_fill(ranges, first=0, size=size, what=what))


def _fill(ranges: list[Range], *, first: int, size: int, what: str) -> tuple[Extent, ...]:
    extents, inside = [], first
    for r in ranges:
        if inside >= size:
            break
        count = min(r.count, size - inside)
        extents.append(Extent(inside, r.start, count))
        inside += count
    if inside < size:
        raise ClusterkitError(f"the subordinate {what} ranges hold {inside - first} ids; a lab needs "
                              f"{size - first}", field=f"sub{what}")
    return tuple(extents)


def free_range(texts: list[str], *, size: int = SIZE) -> Range:
    """A range of ``size`` ids above every range in the given ``/etc/subuid`` and ``/etc/subgid`` texts."""
    top = FIRST_SUBID
    for text in texts:
        for line in text.splitlines():
            fields = line.split("#", 1)[0].strip().split(":")
            if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                top = max(top, int(fields[1]) + int(fields[2]))
    return Range(top, size)


def for_caller(*, uid: int | None = None, gid: int | None = None, name: str | None = None,
               subuid: Path = SUBUID, subgid: Path = SUBGID, size: int = SIZE) -> LabIds:
    """The ids of a lab started by user ``uid`` (default: this process's), from its subordinate ranges.

    A missing or too small range is an error that says which line root would add (``usermod
    --add-subuids``); the ranges are never written here."""
    uid = os.getuid() if uid is None else uid
    gid = (os.getgid() if uid == os.getuid() else _primary_gid(uid)) if gid is None else gid
    name = name or _user_name(uid)
    texts = {}
    for path in (subuid, subgid):
        try:
            texts[path] = path.read_text()
        except FileNotFoundError:
            texts[path] = ""
    maps = []
    for path, what, own in ((subuid, "uid", uid), (subgid, "gid", gid)):
        ranges = parse(texts[path], name=name, ident=uid)
        try:
            if not ranges:
                raise ClusterkitError(f"user {name} has no range in {path}", field=f"sub{what}")
            maps.append(root_map(ranges, size=size, what=what) if uid == 0 else
                        user_map(own, ranges, size=size, what=what))
        except ClusterkitError as e:
            free = free_range(list(texts.values()), size=size)
            raise ClusterkitError(f"{e.message}: a lab in a user namespace needs {size} ids of its own. "
                                  f"As root: usermod --add-subuids {free.start}-{free.end} "
                                  f"--add-subgids {free.start}-{free.end} {name}", field=e.field) from None
    return LabIds(owner=name, uid=uid, uids=maps[0], gids=maps[1])


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _primary_gid(uid: int) -> int:
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return uid


def write_map(pid: int, ids: LabIds, *, proc: Path = Path("/proc"), run=subprocess.run) -> None:
    """Give the user namespace of process ``pid`` its maps: root writes them, a user asks newuidmap and
    newgidmap (which check the ranges against /etc/subuid and /etc/subgid themselves)."""
    if ids.by_root:
        # gid_map first or last makes no difference for root; uid_map last wakes the holder (HOLD).
        (proc / str(pid) / "gid_map").write_text(ids.gids.text())
        (proc / str(pid) / "uid_map").write_text(ids.uids.text())
        return
    for tool, idmap in (("newgidmap", ids.gids), ("newuidmap", ids.uids)):
        if shutil.which(tool) is None:
            raise ClusterkitError(f"{tool} is missing: install Debian's uidmap package", field="userns")
        r = run([tool, str(pid), *idmap.args()], capture_output=True, text=True)
        if r.returncode != 0:
            raise ClusterkitError(f"{tool} refused the lab's map: {(r.stderr or r.stdout).strip()}", field="userns")


@dataclass(frozen=True)
class Holder:
    """The process that holds a lab's user namespace and its network namespace (its ``unshare``)."""

    proc: procs.Proc

    @property
    def pid(self) -> int:
        return self.proc.pid


def hold(ids: LabIds, *, log=subprocess.DEVNULL, timeout: float = 5.0) -> Holder:
    """Start the process that holds a new lab user namespace (with its network and PID namespaces) and give
    the namespace ``ids``'s maps; returns once a process inside is the namespace's root."""
    proc = procs.spawn(["unshare", "--user", "--net", "--pid", "--fork", "sh", "-c", HOLD], log=log)
    holder = Holder(proc)
    try:
        own = os.readlink("/proc/self/ns/user")
        deadline = time.monotonic() + timeout
        while _ns(proc.pid) in (None, own):
            if not procs.alive(proc) or time.monotonic() > deadline:
                raise ClusterkitError("the lab's user namespace did not start (unshare --user)", field="userns")
            time.sleep(0.005)
        write_map(proc.pid, ids)
        while not any(procs.comm(child) == "sleep" for child in procs.children(proc.pid)):   # HOLD saw its map
            if not procs.alive(proc) or time.monotonic() > deadline:
                raise ClusterkitError("the lab's user namespace did not take its map", field="userns")
            time.sleep(0.005)
    except BaseException:
        release(holder)
        raise
    return holder



def _ns(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/user")
    except OSError:
        return None


def enter(holder: Holder, *, net: bool = True) -> list[str]:
    """The command prefix that runs a command as root of the lab's user namespace (and, with ``net``, in the
    lab's network namespace). Never with the caller's own credentials kept: see the module's note."""
    return ["nsenter", "-t", str(holder.pid), "--user"] + (["--net"] if net else []) + ["--"]


def release(holder: Holder) -> None:
    """End the holder: first its child, PID 1 of the lab's PID namespace (the rest of that namespace goes
    with it), then its ``unshare``. (``unshare --kill-child`` did not end that child here: tried.)"""
    if procs.alive(holder.proc):
        inside = [p for p in (procs.proc_of(c) for c in procs.children(holder.pid)) if p is not None]
        for p in inside:
            procs.kill(p)
        procs.wait_gone(inside)
    procs.kill(holder.proc)
    procs.wait_gone([holder.proc])
