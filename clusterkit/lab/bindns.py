"""Bind a directory of one lab node at a path inside another (run as root from the host, as a script).

``python bindns.py SRC_MNT_NS SRC_PATH DST_MNT_NS DST_PATH``: into the source
node's mount namespace, ``open_tree(OPEN_TREE_CLONE)`` there (a detached copy of
the directory's mount), into the target node's namespace, ``move_mount`` the
copy onto the target path. Files written on either side are then the same
files. A threaded process cannot change its mount namespace, so this always
runs as a short process of its own; it uses the standard library only, since
a node's boot runs it from the lab's own directory (:mod:`.bootmounts`).
"""

import ctypes
import os
import sys

SYS_open_tree, SYS_move_mount = 428, 429
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, AT_RECURSIVE = 1, 0o2000000, 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 4
CLONE_NEWNS = 0x00020000


def main(argv: list[str]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)

    def enter(fd: int, what: str) -> None:
        if libc.setns(fd, CLONE_NEWNS) != 0:
            sys.exit(f"setns into the {what}'s mount namespace: {os.strerror(ctypes.get_errno())}")
        os.chdir("/")

    src_ns, source, ns, target = argv[:4]
    src_fd, dst_fd = os.open(src_ns, os.O_RDONLY), os.open(ns, os.O_RDONLY)  # both before /proc changes
    enter(src_fd, "primary")
    fd = libc.syscall(SYS_open_tree, -100, source.encode(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)
    if fd < 0:
        sys.exit(f"open_tree {source}: {os.strerror(ctypes.get_errno())}")
    enter(dst_fd, "worker")
    if libc.syscall(SYS_move_mount, fd, b"", -100, target.encode(), MOVE_MOUNT_F_EMPTY_PATH) != 0:
        sys.exit(f"move_mount to {target}: {os.strerror(ctypes.get_errno())}")


if __name__ == "__main__":
    main(sys.argv[1:])
