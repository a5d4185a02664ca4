"""A lab worker's "NFS mount": the primary's export directory bound at the worker's mount point, from the host.

The lab's kernel has no NFS client, so a worker cannot mount the primary's
NFS export (nfs-ganesha, or unfs3 in a user-namespace lab). Instead the host (root) enters the primary's mount
namespace, clones the directory as a detached mount (``open_tree``), enters the
worker's mount namespace and attaches it there (``move_mount``): files written on either side are the same
files. The real NFS server is still checked from every worker with ``nfs-ls``.
This runs in a short child process (:mod:`.bindns`), since a threaded process
cannot change its mount namespace. A worker's boot makes the same bind again from
the line in its fstab (:mod:`.bootmounts`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..errors import ClusterkitError

#: The child process that binds (a script of its own: the boot of a node runs it too).
BINDNS = Path(__file__).with_name("bindns.py")


def bind_between(inventory, *, source: str, path: str, target_node: str, target: str) -> None:
    """Bind ``source``'s directory ``path`` at ``target`` inside ``target_node`` (both nodes of the lab behind ``inventory``)."""
    from . import find
    lab = find(inventory.name)
    if lab is None:
        raise ClusterkitError(f"no lab {inventory.name} on this host", field="lab")
    src_pid, dst_pid = lab.pid(source), lab.pid(target_node)
    if src_pid is None or dst_pid is None:
        raise ClusterkitError("the node is off", node=source if src_pid is None else target_node, field="lab")
    if not path.startswith("/") or not target.startswith("/"):
        raise ClusterkitError("paths must be absolute", node=target_node, field="mount")
    from .userlab import bind_through, is_user_lab
    if is_user_lab(lab.dir):   # a normal user's lab: its binder, root of the lab's user namespace, binds
        r = bind_through(lab, src_pid=src_pid, path=path, dst_pid=dst_pid, target=target)
    else:
        r = subprocess.run([sys.executable, str(BINDNS), f"/proc/{src_pid}/ns/mnt", path,
                            f"/proc/{dst_pid}/ns/mnt", target],
                           capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise ClusterkitError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"rc {r.returncode}",
                              node=target_node, field="mount")
