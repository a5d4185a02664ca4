"""The namespace lab in a user namespace (the default kind of ``lab up``, as root): root on a node is not root on the host.

The lab is today's namespace lab (same addresses, bridges, router, inventory, SSH), but every node runs in
one user namespace of the lab (:mod:`.userns`): its ids 0..65535 are root's subordinate range of the host
(``/etc/subuid``, ``/etc/subgid``; added there when root has none, and said so), and each node builds its
own root (:mod:`.rootless_node`). Host root still makes the links (it may move a veth into a network
namespace that the lab's user namespace owns), so the workbook reaches the nodes as today.

``lab.json`` says ``"kind": "userns"``; the process that holds the user namespace (itself its root, a host uid
of the range) is kept in ``bin/userns.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from ..errors import ClusterkitError
from . import build, kinds, node, procs, rootless_node, userlab, userns
from .ns import NamespaceKind, NamespaceLab
from .platform import USERNS_PLATFORM

#: Its name in ``lab.json``.
NAME = "userns"
#: Where a lab of this kind records the process that holds its user namespace.
HOLDER_FILE = "bin/userns.json"


def holder_of(directory: Path) -> userns.Holder | None:
    """The holder of the lab's user namespace recorded in ``directory`` (None: none recorded)."""
    try:
        proc = procs.Proc.from_dict(json.loads((directory / HOLDER_FILE).read_text()).get("holder"))
    except (OSError, ValueError):
        return None
    return userns.Holder(proc) if proc is not None else None


class UsernsLab(NamespaceLab):
    """A namespace lab whose nodes run in the lab's user namespace."""

    kind = NAME

    def holder(self) -> userns.Holder:
        held = holder_of(self.dir)
        if held is None or not procs.alive(held.proc):
            raise ClusterkitError(f"lab {self.name}'s user namespace is gone; `clusterkit lab down` and up again",
                                  field="userns")
        return held

    def start_node(self, name: str) -> None:
        """Power a node on (it keeps its files, like an SD card); no-op when it runs."""
        board = self._board(name)
        if self._on(board):
            return
        node.stop(board.supervisor)
        self._set_supervisor(name, rootless_node.start(ns=self.names.node_ns(name), node_dir=self.node_dir(name),
                                                       bin_dir=self.dir / "bin", holder=self.holder()))

    def describe(self) -> str:
        return "namespaces in a user namespace"


def root_ids(*, subuid: Path = userns.SUBUID, subgid: Path = userns.SUBGID, log=print) -> userns.LabIds:
    """The ids of a lab root starts: root's range in ``/etc/subuid`` and ``/etc/subgid``; where root has none,
    a free range is added to both files (and ``log`` says so)."""
    try:
        return userns.for_caller(uid=0, gid=0, name="root", subuid=subuid, subgid=subgid)
    except ClusterkitError as e:
        if e.field not in ("subuid", "subgid"):
            raise
    texts = [p.read_text() if p.exists() else "" for p in (subuid, subgid)]
    if any(userns.parse(t, name="root", ident=0) for t in texts):
        raise ClusterkitError(f"root's ranges in {subuid} and {subgid} are too small or differ: give root "
                              f"{userns.SIZE} ids in both", field="subuid")
    free = userns.free_range(texts)
    for path, text in zip((subuid, subgid), texts):
        path.write_text(text + ("" if not text or text.endswith("\n") else "\n") + f"root:{free.start}:{free.count}\n")
    log(f"added root:{free.start}:{free.count} to {subuid} and {subgid} (the user namespace of root's labs)")
    return userns.for_caller(uid=0, gid=0, name="root", subuid=subuid, subgid=subgid)


def hold(ids: userns.LabIds, *, timeout: float = 5.0) -> userns.Holder:
    """The process that holds the lab's user namespace, itself the namespace's root (a host uid of the range,
    not host root): one ``unshare -S 0 -G 0`` whose maps ``newuidmap``/``newgidmap`` write. Where the maps are
    more than one range, or those tools are missing, :func:`userns.hold`'s (whose first process keeps host
    uid 0, without capabilities after its exec, outside every node's PID namespace)."""
    uids, gids = ids.uids.extents, ids.gids.extents
    if len(uids) != 1 or len(gids) != 1 or not (shutil.which("newuidmap") and shutil.which("newgidmap")):
        return userns.hold(ids)
    proc = procs.spawn(["unshare", "--user", f"--map-users={uids[0].outside},0,{uids[0].count}",
                        f"--map-groups={gids[0].outside},0,{gids[0].count}", "-S", "0", "-G", "0", "--net",
                        "--", "sleep", "infinity"])
    held = userns.Holder(proc)
    deadline = time.monotonic() + timeout
    while procs.comm(proc.pid) != "sleep":   # unshare execs sleep once it is the namespace's root
        if not procs.alive(proc) or time.monotonic() > deadline:
            userns.release(held)
            raise ClusterkitError("the lab's user namespace did not start (unshare --map-users)", field="userns")
        time.sleep(0.005)
    return held



class UsernsKind(NamespaceKind):
    """Namespaces on this host, in a user namespace of the lab: root on a node is an unprivileged host uid."""

    name = NAME
    title = "namespaces in a user namespace"
    flag = None   # the default kind
    lab_class = UsernsLab
    platform = USERNS_PLATFORM
    #: A normal user's lab is of this kind too, with no host side (:mod:`.userlab`).
    user_ok = True

    def open(self, directory: Path):
        if userlab.is_user_lab(directory):
            return userlab.lab_class()(directory)
        return super().open(directory)

    def build(self, new: kinds.NewLab) -> None:
        if os.geteuid() != 0:
            userlab.build_lab(new)
            return
        ids = root_ids(log=new.log)
        base = (ids.uids.to_host(0), ids.gids.to_host(0))
        holder = hold(ids)
        try:
            def write_scripts(bin_dir: Path) -> None:
                rootless_node.write_scripts(bin_dir)
                (bin_dir / "userns.json").write_text(json.dumps({"holder": holder.proc.to_dict(),
                                                                 "uids": ids.uids.text(), "gids": ids.gids.text()}))
                in_use = {(other.dir / "image").resolve() for other in new.other_labs}
                (bin_dir.parent / "image").symlink_to(rootless_node.cached_image(holder=holder, base=base,
                                                                                  in_use=in_use))
                nodes = bin_dir.parent / "nodes"
                nodes.chmod(0o700)
                os.chown(nodes, *base)
                leases = bin_dir.parent / "dnsmasq.leases"   # the router's, which runs as the range's root
                leases.touch(mode=0o644)
                os.chown(leases, *base)

            def prepare(node_dir: Path, *, uid: int, hash_: str, key: node.HostKey, image) -> None:
                node.prepare(node_dir, uid=uid, hash_=hash_, key=key, image=image)
                rootless_node.shift_owners(node_dir, base=base)

            way = build.NodeWay(
                write_scripts=write_scripts, prepare=prepare,
                netns=lambda ns: rootless_node.make_netns(ns, holder=holder) or [],
                start=lambda *, ns, node_dir, bin_dir: rootless_node.start(ns=ns, node_dir=node_dir,
                                                                          bin_dir=bin_dir, holder=holder),
                router=("nsenter", f"--user=/proc/{holder.pid}/ns/user", "--"))
            build.build(name=new.name, count=new.count, network=new.network, image=new.image,
                        labs_dir=new.labs_dir, password=new.password, other_labs=new.other_labs, kind=self.name,
                        way=way)
        except BaseException:
            userns.release(holder)
            raise

    def teardown(self, name: str, *, lab, labs_dir: Path) -> None:
        if os.geteuid() != 0 or userlab.is_user_lab(labs_dir / name):
            userlab.teardown(name, lab=lab, labs_dir=labs_dir)
            return
        held = holder_of(labs_dir / name)
        try:
            build.teardown(name, lab=lab, labs_dir=labs_dir)
        finally:
            if held is not None:
                userns.release(held)


KIND = UsernsKind()
kinds.register(KIND)

__all__ = ["UsernsLab", "UsernsKind", "KIND", "root_ids", "holder_of", "hold"]
