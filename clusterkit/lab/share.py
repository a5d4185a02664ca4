"""A lab worker's "NFS mount": the primary's export directory bound at the worker's mount point, from the host.

The lab's kernel has no NFS client, so a worker cannot mount the primary's
nfs-ganesha export. Instead the host (root) enters the primary's mount
namespace, clones the directory as a detached mount (``open_tree``), enters the
worker's mount namespace and attaches it there (``move_mount``): files written on either side are the same
files. The real NFS server is still checked from every worker with ``nfs-ls``.
This runs in a short child process, since a threaded process cannot change its
mount namespace.
"""

from __future__ import annotations

import subprocess
import sys

from ..errors import ClusterkitError

#: The child: into the primary's mount namespace, open_tree(OPEN_TREE_CLONE) there (a detached copy of the
#: directory's mount), into the worker's namespace, move_mount the copy onto the mount point.
CHILD = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_open_tree, SYS_move_mount = 428, 429
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, AT_RECURSIVE = 1, 0o2000000, 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 4
CLONE_NEWNS = 0x00020000
def enter(fd, what):
    if libc.setns(fd, CLONE_NEWNS) != 0:
        sys.exit(f"setns into the {what}'s mount namespace: {os.strerror(ctypes.get_errno())}")
    os.chdir("/")
src_ns, source, ns, target = sys.argv[1:5]
src_fd, dst_fd = os.open(src_ns, os.O_RDONLY), os.open(ns, os.O_RDONLY)  # both before /proc changes
enter(src_fd, "primary")
fd = libc.syscall(SYS_open_tree, -100, source.encode(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)
if fd < 0:
    sys.exit(f"open_tree {source}: {os.strerror(ctypes.get_errno())}")
enter(dst_fd, "worker")
if libc.syscall(SYS_move_mount, fd, b"", -100, target.encode(), MOVE_MOUNT_F_EMPTY_PATH) != 0:
    sys.exit(f"move_mount to {target}: {os.strerror(ctypes.get_errno())}")
"""


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
    r = subprocess.run([sys.executable, "-c", CHILD, f"/proc/{src_pid}/ns/mnt", path,
                        f"/proc/{dst_pid}/ns/mnt", target],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise ClusterkitError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"rc {r.returncode}",
                              node=target_node, field="mount")
