"""The lab's own processes: started detached, found again by pid and start time, killed by pid.

A pid alone could be reused by an unrelated process between ``lab up`` and
``lab down``; a :class:`Proc` also records the process's start time, and
nothing is signalled unless both still match.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import IO

#: Processes this Python process started, so that it reaps them (no zombies left behind).
_children: dict[int, subprocess.Popen] = {}


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int   #: start time in clock ticks since boot (field 22 of /proc/PID/stat)

    def to_dict(self) -> dict:
        return {"pid": self.pid, "start": self.start}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Proc | None":
        return cls(int(data["pid"]), int(data["start"])) if data else None


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may hold spaces or parentheses: split after the last ')'.
    return text[text.rindex(")") + 2:].split()


def comm(pid: int) -> str:
    """The name of process ``pid``'s program (``/proc/PID/comm``; "" when it is gone)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def proc_of(pid: int) -> Proc | None:
    fields = _stat(pid)
    return Proc(pid, int(fields[19])) if fields else None


def ppid(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _reap(pid: int) -> None:
    popen = _children.get(pid)
    if popen is not None and popen.poll() is not None:
        del _children[pid]


def alive(proc: Proc | None) -> bool:
    """The very process recorded, still running (not a zombie, not a reused pid)."""
    if proc is None:
        return False
    _reap(proc.pid)
    fields = _stat(proc.pid)
    return bool(fields) and fields[0] != "Z" and int(fields[19]) == proc.start


def spawn(command: list[str], *, log: IO[bytes] | int = subprocess.DEVNULL) -> Proc:
    """Start ``command`` in its own session (so it outlives a CLI call); returns its Proc."""
    popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True, close_fds=True)
    _children[popen.pid] = popen
    for _ in range(100):
        proc = proc_of(popen.pid)
        if proc is not None:
            return proc
        time.sleep(0.001)
    return Proc(popen.pid, 0)


def kill(proc: Proc, sig: int = signal.SIGKILL) -> bool:
    """Signal the recorded process if it is still that process; True when a signal was sent."""
    if not alive(proc):
        return False
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_gone(procs: list[Proc], *, timeout: float = 5.0) -> list[Proc]:
    """Wait until none of ``procs`` runs; returns those still running after ``timeout``."""
    deadline = time.monotonic() + timeout
    left = [p for p in procs if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.01)
        left = [p for p in left if alive(p)]
    for p in procs:
        popen = _children.pop(p.pid, None)
        if popen is not None:
            try:
                popen.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                _children[p.pid] = popen
    return left


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (scanning /proc: this kernel has no /proc/PID/task/*/children)."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and int(fields[1]) == pid and fields[0] != "Z":
                kids.append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``, found in one scan of /proc."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and fields[0] != "Z":
                parent[int(entry)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found.extend(kids)
        frontier.extend(kids)
    return found


def memory_kib(pid: int) -> dict[str, int]:
    """Resident (Rss) and proportional (Pss) memory of one process, in KiB."""
    out = {"rss": 0, "pss": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss"):
                    out[key.lower()] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out
