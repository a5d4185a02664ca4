"""Throwaway learners: a normal user with a range of 65536 subordinate ids of its own, and its removal.

Used as root by the lab tests of a normal user's lab (``tests/lab/test_user_lab.py``) and by ``scripts/test.sh``,
which runs the notebooks as such a learner, on a lab of their own brought up without sudo::

    python tests/learners.py add NAME      # prints: uid gid first-subordinate-id home
    python tests/learners.py remove NAME

``add`` replaces a learner of that name left by a run that was stopped. ``remove`` takes the user, its home and
its lines in ``/etc/subuid``, ``/etc/subgid`` and the account files' ``-`` backups away (useradd and usermod
write those backups).
"""

from __future__ import annotations

import pwd
import subprocess
import sys
from pathlib import Path

from clusterkit.lab import userns

ETC = Path("/etc")


def _forget(name: str) -> None:
    """The user's lines out of the account files' ``-`` backups and out of the subordinate-id files."""
    for file in ("subuid", "subgid", "subuid-", "subgid-", "passwd-", "group-", "shadow-", "gshadow-"):
        path = ETC / file
        if path.is_file():
            lines = path.read_text().splitlines(keepends=True)
            kept = [line for line in lines if line.split(":", 1)[0] != name]
            if kept != lines:
                path.write_text("".join(kept))


def remove(name: str) -> None:
    """The learner and every trace of it in the account files (nothing when there is no such user)."""
    subprocess.run(["userdel", "-r", name], capture_output=True)
    _forget(name)


def add(name: str) -> tuple[int, int, int, str]:
    """A new learner ``name`` with 65536 subordinate ids of its own (none of useradd's): (uid, gid, first id, home)."""
    remove(name)
    free = userns.free_range([p.read_text() if p.exists() else "" for p in (userns.SUBUID, userns.SUBGID)])
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name],
                   check=True, capture_output=True)
    try:
        subprocess.run(["usermod", "--add-subuids", f"{free.start}-{free.end}", "--add-subgids",
                        f"{free.start}-{free.end}", name], check=True, capture_output=True)
    except BaseException:
        remove(name)
        raise
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid, free.start, entry.pw_dir


if __name__ == "__main__":
    command, who = sys.argv[1:3]
    if command == "add":
        print(*add(who))
    elif command == "remove":
        remove(who)
    else:
        sys.exit(f"usage: {sys.argv[0]} add|remove NAME")
