"""An action for a change the workbook's own login is in the way of: commands run by a detached root script.

``usermod`` refuses to rename a user who is logged in, and the workbook is
logged in as that user. So the commands go into a script that a detached root
process runs once the login has logged out; the workbook logs out, then reads
the script's log back through whichever login works now.
"""

from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass

from ..inventory import NodeSpec
from .actions import Action, Command, Run

@dataclass(frozen=True)
class DetachedScript(Action):
    """``commands`` run as root by a detached process, once no process of ``wait_for`` is left.

    For a change that the workbook's own login is in the way of (``usermod``
    refuses to rename a user who is logged in): the script is written to
    ``path``.sh and started detached; the workbook logs out, then reads
    ``path``.log through ``logins`` — (login, seconds after the start before
    trying it) in order of preference — until it says ``end``. When the first
    command went through, the node is reached through ``follow`` from now on,
    even if a later command failed.
    """

    commands: tuple[Command, ...] = ()
    path: str = ""
    wait_for: str | None = None
    wait: int = 30
    logins: tuple[tuple[NodeSpec, float], ...] = ()
    follow: NodeSpec | None = None
    what: str = "the script"
    phase: int = 0

    @property
    def ticks(self) -> int:
        return len(self.commands)

    def describe(self) -> str:
        return "; ".join(c.command for c in self.commands)

    def simulate(self, run: Run) -> None:
        for c in self.commands:
            c.simulate(run)

    def script(self) -> str:
        lines = []
        if self.wait_for:
            who = self.wait_for
            lines += [f"n=0; while pgrep -u {who} >/dev/null && [ $n -lt {self.wait * 5} ]; do sleep 0.2; "
                      "n=$((n+1)); done",
                      f"if pgrep -u {who} >/dev/null; then echo \"busy: {who} is still logged in:\" "
                      f"$(pgrep -u {who} -l | head -3 | tr '\\n' ' '); echo end; exit 1; fi"]
        for i, c in enumerate(self.commands):
            lines.append(f"if {c.command}; then echo 'ok {i}'; else echo \"failed {i} $?\"; echo end; exit 1; fi")
        return "\n".join(lines + ["echo end"]) + "\n"

    def apply(self, run: Run) -> None:
        from .reach import node_at
        node, log = run.node, self.path + ".log"
        node.sudo(f"install -d -m 700 {posixpath.dirname(self.path)}", timeout=30)
        node.write_file(self.path + ".sh", self.script().encode(), mode=0o700, privileged=True, backup=False)
        r = node.sudo(f"rm -f {log}; setsid nohup sh {self.path}.sh > {log} 2>&1 < /dev/null & echo started",
                      timeout=30)
        if not r.ok:
            run.out.problem = f"could not start {self.what} as root: {r.summary()}"
            return
        node.close()
        start = time.monotonic()
        attempts = [(node_at(run.cluster, spec), start + delay) for spec, delay in self.logins]
        text, why = read_log(attempts, log, deadline=start + self.wait + 30)
        lines = text.splitlines()
        done = {int(line.split()[1]) for line in lines if line.startswith("ok ")}
        run.out.ran += [c.command for i, c in enumerate(self.commands) if i in done]
        for c in self.commands:
            run.tick(c.short)
        if self.follow is not None and 0 in done:
            run.out.reach = self.follow
        if "end" not in lines:
            users = " or ".join(repr(spec.user) for spec, _ in self.logins)
            run.out.problem = f"could not read how {self.what} went (as {users}): {why}"
        elif len(done) < len(self.commands):
            failed = next(i for i in range(len(self.commands)) if i not in done)
            said = "; ".join(ln for ln in lines if not ln.startswith(("ok ", "failed ")) and ln != "end")
            run.out.problem = f"{self.commands[failed].command!r} failed" + (f": {said}" if said else "") + \
                f" (log: {log} on the node)"


def read_log(attempts: list, log: str, *, deadline: float) -> tuple[str, str]:
    """A detached script's log once it says ``end``, read through the first login that works.

    ``attempts``: (node, not before) pairs in order of preference. A login's
    connection is closed again after every read that is not the last, so the
    workbook never stays logged in while the script waits for a logout.
    """
    text, why = "", "no login answered"
    try:
        while True:
            for n, not_before in attempts:
                if time.monotonic() < not_before:
                    continue
                r = n.sudo(f"cat {log}", timeout=30)
                if r.ok and "end" in r.stdout.split():
                    return r.stdout, ""
                n.close()
                if r.ok:
                    text = r.stdout
                    break
                why = r.summary()
            if time.monotonic() > deadline:
                return text, why
            time.sleep(0.3)
    finally:
        for n, _ in attempts:
            n.close()


__all__ = ["DetachedScript", "read_log"]
