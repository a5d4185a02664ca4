"""Who holds an SSH login on a node: every connection the workbook opens says so on the node.

When a connection opens, one short command writes a line to
``~/.cache/clusterkit/sessions/PID`` of the login user, where PID is the node's
sshd process for that connection (the parent of the command's shell): which
notebook (``JPY_SESSION_NAME``, which JupyterLab gives each kernel), which
kernel (its connection file), else which program, its process id and this
machine's name. An idle connection runs no process on the node, so neither an
environment variable (sshd's ``AcceptEnv`` passes only ``LANG`` and ``LC_*`` on
Raspberry Pi OS and on the lab) nor a command line could carry that: a file
named by the sshd process can, on boards and on the lab alike. The line
starts with that process's start time, so a file left by an ended connection
is never taken for a new one with the same PID; ended ones are removed at the
next connection.

:func:`logins` reads the other processes of a user on a node back, each with the
workbook program that holds it where one announced itself.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
from dataclasses import dataclass
from pathlib import PurePosixPath

#: Under the login user's home: one file per connection of a workbook program.
SESSIONS = ".cache/clusterkit/sessions"

#: Run on each new connection, the line on its stdin: written atomically, then the files of ended ones removed.
ANNOUNCE = (f'd="$HOME/{SESSIONS}"; mkdir -p "$d" && chmod 700 "$d" || exit 0; '
            "s=$(cut -d' ' -f22 /proc/$PPID/stat 2>/dev/null) || exit 0; "
            '{ printf "%s " "$s"; head -c 4000; } > "$d/.$PPID" && mv -f "$d/.$PPID" "$d/$PPID"; '
            'for f in "$d"/*; do p="${f##*/}"; [ -d "/proc/$p" ] || rm -f "$f"; done')


@dataclass(frozen=True)
class Holder:
    """A workbook program holding a connection: its notebook, kernel or program, process and host."""

    program: str
    pid: int
    host: str
    notebook: str | None = None   #: the notebook's path, as JupyterLab told its kernel
    kernel: str | None = None     #: the kernel's id (from its connection file)

    @property
    def name(self) -> str:
        """What a learner knows it by: ``notebook 08_mpi``, ``kernel 1a2b3c4d``, or ``program (process N)``."""
        if self.notebook:
            return f"notebook {PurePosixPath(self.notebook).stem}"
        if self.kernel:
            return f"the Jupyter kernel {self.kernel[:8]}"
        return f"program {self.program} (process {self.pid})"

    def where(self) -> str:
        """`` on HOST`` when it runs on another machine than this one."""
        return "" if self.host == socket.gethostname() else f" on {self.host}"

    @property
    def here(self) -> bool:
        """Whether it is this very process."""
        return self.pid == os.getpid() and self.host == socket.gethostname()

    def line(self) -> str:
        return json.dumps({"program": self.program, "pid": self.pid, "host": self.host,
                           "notebook": self.notebook, "kernel": self.kernel})

    @classmethod
    def parse(cls, text: str) -> "Holder | None":
        try:
            d = json.loads(text)
            return cls(program=str(d["program"]), pid=int(d["pid"]), host=str(d["host"]),
                       notebook=d.get("notebook") or None, kernel=d.get("kernel") or None)
        except (ValueError, KeyError, TypeError):
            return None


def this_process() -> Holder:
    """This process as a holder: its notebook and kernel when it is a Jupyter kernel."""
    return Holder(program=program(), pid=os.getpid(), host=socket.gethostname(),
                  notebook=os.environ.get("JPY_SESSION_NAME") or None, kernel=kernel_id())


def program() -> str:
    """This program's name: its script's, its package's for ``python -m``, else ``python``."""
    path = PurePosixPath(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c", "-") else None
    if path is None:
        return "python"
    return path.parent.name if path.name == "__main__.py" and path.parent.name else path.name


def kernel_id() -> str | None:
    """The id of this kernel, from its connection file (``kernel-ID.json``, after ``-f`` on its command line)."""
    argv = sys.argv
    for i, a in enumerate(argv):
        path = argv[i + 1] if a == "-f" and i + 1 < len(argv) else a[3:] if a.startswith("-f=") else None
        if path:
            stem = PurePosixPath(path).stem
            return stem[len("kernel-"):] if stem.startswith("kernel-") else stem
    return None


def announce(transport, *, timeout: float) -> bool:
    """Say on the node who holds this new connection (a paramiko transport); False where it could not."""
    try:
        chan = transport.open_session(timeout=timeout)
        try:
            chan.settimeout(timeout)
            chan.exec_command(ANNOUNCE)
            chan.sendall((this_process().line() + "\n").encode())
            chan.shutdown_write()
            return chan.recv_exit_status() == 0
        finally:
            chan.close()
    except Exception:   # best effort: a login that cannot write its home still works
        return False


@dataclass(frozen=True)
class Login:
    """Another process of a user on a node, and the workbook program that holds its connection, if one said so."""

    pid: int                        #: the process, on the node
    seconds: int                    #: how long it has run
    args: str                       #: its command line
    holder: Holder | None = None    #: the workbook program that said it holds the connection

    def __str__(self) -> str:
        if self.holder is not None:
            return f"{self.holder.name}{self.holder.where()}"
        return f"process {self.pid}: {self.args}, for {self.seconds} s"


def logins_script(user: str) -> str:
    """The user's processes on a node other than this connection's, then the workbook's session files."""
    q = shlex.quote(user)
    return (f"id -u {q} >/dev/null 2>&1 || exit 0; me=$(ps -o ppid= -p $$ | tr -d ' '); "
            f"ps -u {q} -o pid=,ppid=,etimes=,args= | "
            "awk -v me=\"$me\" -v self=$$ '$1!=me && $1!=self && $2!=me && $2!=self'; "
            f"echo '--- sessions'; d=\"$(getent passwd {q} | cut -d: -f6)/{SESSIONS}\"; "
            "for f in \"$d\"/*; do [ -f \"$f\" ] || continue; p=\"${f##*/}\"; "
            "s=$(cut -d' ' -f22 \"/proc/$p/stat\" 2>/dev/null) || continue; "
            "printf '%s %s ' \"$p\" \"$s\"; head -n1 \"$f\"; done")


def logins(output: str) -> list[Login]:
    """:func:`logins_script`'s output: one :class:`Login` per process, with its holder where one announced itself.

    A process belongs to the session of the nearest of its ancestors that is a connection's sshd process.
    """
    procs: dict[int, tuple[int, int, str]] = {}
    holders: dict[int, Holder] = {}
    lines = output.splitlines()
    cut = lines.index("--- sessions") if "--- sessions" in lines else len(lines)
    for line in lines[:cut]:
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit() and parts[2].isdigit():
            procs[int(parts[0])] = (int(parts[1]), int(parts[2]), parts[3])
    for line in lines[cut + 1:]:
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0].isdigit() and parts[1] == parts[2]:   # the same process, not a reused PID
            holder = Holder.parse(parts[3])
            if holder is not None:
                holders[int(parts[0])] = holder
    found = []
    for pid, (ppid, seconds, args) in procs.items():
        at, seen = pid, set()
        while at not in holders and at in procs and at not in seen:
            seen.add(at)
            at = procs[at][0]
        found.append(Login(pid, seconds, args, holders.get(at)))
    return found


__all__ = ["Holder", "Login", "SESSIONS", "announce", "kernel_id", "logins", "logins_script", "program",
           "this_process"]
