"""A leash: run a command so that it ends when the process that started it ends.

    python leash.py PARENT_PID -- COMMAND [ARG ...]
    python leash.py - -- COMMAND [ARG ...]

The second form is for a command started over SSH on a node: its parent is
whoever holds the other end of its standard input. The first line read there is
a JSON object of environment variables for the command (so that a secret such as
the engines' connection key never appears on a command line or on disk); the end
of the input (the workbook closed the channel, or its connection dropped because
the kernel died) counts as the parent going away.

ipyparallel starts its controller and engines in sessions of their own (so a
Ctrl-C in the notebook does not reach them), which also means they outlive a
kernel that is killed — and nbval kills kernels. The leash sits between the
starter and the command: it forwards SIGTERM and SIGINT to the command, and
when its parent goes away (its parent pid changes, so a reused pid cannot fool
it) it stops the command: SIGTERM, a grace period, then SIGKILL to everything
left in its own process group (the engines' nannies, the controller's
schedulers, mpiexec's proxies).

It is run as a file, not as ``-m clusterkit...``, so it imports nothing but the
standard library: it starts fast and costs a few megabytes. The sweep reads
``/proc``, so it is Linux's (boards, the lab, Binder); elsewhere only the command
itself is stopped.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

#: Seconds between checks that the parent is still there.
POLL = 0.25
#: Seconds the command has to stop after SIGTERM before everything left is killed.
GRACE = 5.0
#: Seconds that the command's own children get to finish on their own once it has exited
#: (an engine's nanny tells the controller at once that its engine died; killing it first
#: would leave the controller to notice only when heartbeats stop).
SETTLE = 2.0


def group_members(pgid: int) -> list[int]:
    """Pids of the processes in process group ``pgid`` other than this one."""
    me, found = os.getpid(), []
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if name.isdigit() and int(name) != me:
            try:
                if os.getpgid(int(name)) == pgid:
                    found.append(int(name))
            except OSError:
                pass
    return found


def sweep(pgid: int, *, wait: float) -> None:
    """Wait up to ``wait`` seconds for the group to empty, then SIGTERM it, then SIGKILL what is left."""
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            for pid in group_members(pgid):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        deadline = time.monotonic() + (wait if sig is None else GRACE if sig == signal.SIGTERM else 1.0)
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not group_members(pgid):
            return


class Input:
    """The starter as the other end of stdin: ``gone`` once the input has ended."""

    def __init__(self):
        self.ended = False

    def environment(self) -> dict[str, str]:
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(0, 65536)
            if not chunk:
                self.ended = True
                break
            line += chunk
        env = json.loads(line or b"{}")
        if not isinstance(env, dict):
            raise ValueError("the first line must be a JSON object")
        return {str(k): str(v) for k, v in env.items()}

    def gone(self) -> bool:
        while not self.ended and select.select([0], [], [], 0)[0]:
            self.ended = not os.read(0, 65536)
        return self.ended


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--" or not (argv[0].isdigit() or argv[0] == "-"):
        print("usage: leash.py PARENT_PID|- -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    command, env = argv[2:], None
    if argv[0] == "-":
        starter = Input()
        try:
            env = dict(os.environ, **starter.environment())
        except ValueError as e:
            print(f"leash: bad environment line on stdin: {e}", file=sys.stderr)
            return 2
        gone = starter.gone
    else:
        parent = int(argv[0])
        gone = lambda: os.getppid() != parent  # noqa: E731
    if gone():
        return 0  # the starter is already gone: start nothing
    if os.getpgrp() != os.getpid():
        os.setsid()  # our own group, so that a sweep can never reach the starter's
    pgid = os.getpgrp()
    child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL if argv[0] == "-" else None)
    forwarded: list[int] = []

    def forward(sig, _frame):
        forwarded.append(sig)
        try:
            child.send_signal(sig)
        except OSError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    while child.poll() is None:
        if gone():
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(GRACE)
            except subprocess.TimeoutExpired:
                pass
            break
        try:
            child.wait(POLL)
        except subprocess.TimeoutExpired:
            pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sweep(pgid, wait=SETTLE)
    child.poll()
    rc = child.returncode
    return 0 if rc is None else (128 - rc if rc < 0 else rc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
