"""Reboot all and stop all, safely: a confirmation, ``sync`` first, workers first, the primary last.

The primary serves the others (NFS, time), so it goes last. Each node's
Platform powers it off or reboots it (``Platform.power``). Each node's step is
recorded with its start and end times, so the order can be checked. A power
command returns before the node has gone (a board's ``poweroff`` starts an
orderly shutdown; a lab node stops a moment later), so whether a node went down
is watched, with a bound, on fresh connections until it no longer answers; the
workers are seen down before the primary is asked. A reboot then waits, with a
bound, until every node answers again with a new PID 1 start (it really went
down and came back) and says how long each took. On the local backend the
privileged command is refused, and every row says so. In the lab a node's
poweroff stops only that node; ``clusterkit lab up`` brings it back.

:func:`stop_all` and :func:`reboot_all` ask for ``confirm=True``; the
dashboard's buttons ask twice, then run the same :func:`power_all`.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from ..backends.platform import POWER_COMMANDS
from ..backends.registry import Backend
from ..errors import ClusterkitError
from ..results import NodeResult

if TYPE_CHECKING:
    from ..cluster import Cluster

__all__ = ["PowerReport", "PowerStep", "power_all", "stop_all", "reboot_all", "REBOOT_TIMEOUT", "DOWN_TIMEOUT"]

#: What the buttons call each action.
LABELS = {"poweroff": "Shut down", "reboot": "Reboot"}
#: Seconds a node may keep answering after its ``poweroff`` before it counts as still up.
DOWN_TIMEOUT = 30.0
#: Seconds a reboot of boards may take before a node counts as not back (each backend says its own:
#: ``Backend.reboot_timeout``; virtual boards without hardware virtualisation take longer).
REBOOT_TIMEOUT = Backend.reboot_seconds
#: When PID 1 started: changes with every boot, on a board and on a lab node alike.
BOOT_MARK = "ps -o lstart= -p 1"


@dataclass(frozen=True)
class PowerStep:
    """One node's part: when its command started and ended, how it went, and what the node is now."""

    node: str
    role: str            #: "worker" or "primary"
    status: str          #: the command's status (ok, refused, failed, unreachable, …)
    started: float       #: wall-clock seconds
    finished: float
    message: str = ""
    down: bool = False   #: it went down (for a reboot: it went down and came back, see ``now``)
    now: str = ""        #: "down", "still up", "back up", "not back", "rebooting"
    after: float | None = None   #: seconds from its command's end until it was seen down, or back up


def went_down(result: NodeResult) -> bool:
    """Whether the command may have taken the node down: it ran, or the connection dropped under it."""
    return result.status in ("ok", "unreachable", "timeout") or (
        result.status == "failed" and result.exit_code in (None, 255, -1, -9, 137))


def wait_down(cluster: Cluster, names: list[str], *, since: float, timeout: float) -> dict[str, float | None]:
    """Per node, seconds after ``since`` when it no longer answered on a fresh connection (None: it still does)."""
    gone: dict[str, float | None] = {n: None for n in names}
    deadline = time.monotonic() + timeout
    while True:
        waiting = [n for n, t in gone.items() if t is None]
        if not waiting:
            return gone
        for n in waiting:
            cluster[n].close()   # a connection made before the poweroff may linger a moment
        res = cluster.run("true", nodes=waiting, timeout=5.0)
        for n in waiting:
            if not res[n].ok:
                gone[n] = time.time() - since
        if time.monotonic() >= deadline:
            return gone
        time.sleep(0.5)


def power_in_order(cluster: Cluster, action: str, *, timeout: float = 30.0, down_timeout: float = DOWN_TIMEOUT,
                   on_step: Callable[[PowerStep], None] | None = None) -> list[PowerStep]:
    """Run ``poweroff`` or ``reboot`` on every worker at once, then, when all have answered, on the primary.

    For a poweroff each group is watched until it no longer answers (at most
    ``down_timeout``) before the next one goes. ``on_step`` is called with each
    node's step as soon as its group is done (progress).
    """
    if action not in POWER_COMMANDS:
        raise ValueError(f"action is poweroff or reboot, not {action!r}")
    steps: list[PowerStep] = []
    primary = cluster.inventory.primary
    for role, names in (("worker", [w.name for w in cluster.workers]), ("primary", [primary])):
        if not names:
            continue
        t0 = time.time()
        result = cluster.each(lambda n: n.platform.power(n, action, timeout=timeout), nodes=names,
                              timeout=timeout, command=f"sudo {POWER_COMMANDS[action]}")
        t1 = time.time()
        group = [PowerStep(node=n, role=role, status=result[n].status, started=t0, finished=t1,
                           message=(result[n].error or result[n].stderr or "").strip(), down=went_down(result[n]))
                 for n in names]
        if action == "reboot":
            group = [replace(s, now="rebooting" if s.down else "still up") for s in group]
        else:
            # a node whose Platform refused (a local sandbox: no root) was not switched off: nothing to watch
            watched = [s.node for s in group if s.down]
            gone = wait_down(cluster, watched, since=t1, timeout=down_timeout)
            group = [replace(s, down=gone.get(s.node) is not None, now="down" if gone.get(s.node) is not None
                             else "still up", after=gone.get(s.node)) for s in group]
        for s in group:
            steps.append(s)
            if on_step is not None:
                on_step(s)
    return steps


def wait_back(cluster: Cluster, steps: list[PowerStep], *, before: dict[str, str], timeout: float,
              on_back: Callable[[PowerStep], None] | None = None) -> list[PowerStep]:
    """The reboot's steps once every node that went down answers again with a new boot (at most ``timeout``)."""
    out = {s.node: s for s in steps}
    waiting = {s.node for s in steps if s.down}
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for n in waiting:
            cluster[n].close()  # its old connection died with it
        res = cluster.run(BOOT_MARK, nodes=sorted(waiting), timeout=5)
        for n, r in res.items():
            mark = r.stdout.strip()
            if r.ok and mark and mark != before.get(n):
                out[n] = replace(out[n], now="back up", after=time.time() - out[n].finished)
                waiting.discard(n)
                if on_back is not None:
                    on_back(out[n])
        if waiting:
            time.sleep(1.0)
    for n in waiting:
        out[n] = replace(out[n], now="not back")
    return [out[s.node] for s in steps]


@dataclass(repr=False)
class PowerReport:
    """What stop all or reboot all did: each node's step in the order they ran, and what each node is now."""

    action: str
    steps: list[PowerStep]
    confirmed: bool = True

    @property
    def order_ok(self) -> bool:
        """Every worker's command had returned before the primary's started."""
        workers = [s for s in self.steps if s.role == "worker"]
        primary = [s for s in self.steps if s.role == "primary"]
        return all(w.finished <= p.started for w in workers for p in primary)

    @property
    def back(self) -> dict[str, float | None] | None:
        """For a reboot: seconds until each node that went down answered again (None: not back)."""
        if self.action != "reboot":
            return None
        return {s.node: s.after for s in self.steps if s.down}

    def headline(self) -> str:
        if not self.confirmed:
            return (f"{LABELS[self.action]} was not confirmed: nothing was switched off. "
                    f"Call it again with confirm=True.")
        if self.action == "poweroff":
            down = [s.node for s in self.steps if s.now == "down"]
            text = f"{LABELS[self.action]}: {len(down)} of {len(self.steps)} nodes went down"
        else:
            back = [s.node for s in self.steps if s.now == "back up"]
            text = f"{LABELS[self.action]}: {len(back)} of {len(self.steps)} nodes are back up"
        refused = [s.node for s in self.steps if s.status == "refused"]
        if refused:
            text += (f". Refused on {', '.join(refused)}: this backend has no root, so nothing was switched off "
                     "(on the lab or real boards it would be)")
        return text + ("; workers first, then the primary" if self.steps else "")

    def _now(self, s: PowerStep) -> str:
        return s.now + (f" after {s.after:.1f} s" if s.after is not None else "")

    def text(self) -> str:
        if not self.confirmed:
            return self.headline()
        t0 = min((s.started for s in self.steps), default=0.0)
        lines = [self.headline()]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"  {i}. {s.node:<10} {s.role:<8} {s.status:<8} at {s.started - t0:5.2f} s   "
                         f"now {self._now(s)}" + (f"  ({s.message[:120]})" if s.message and s.status != "ok" else ""))
        return "\n".join(lines)

    __str__ = __repr__ = text

    def _repr_html_(self) -> str:
        if not self.confirmed:
            return f"<div><b>{html.escape(self.headline())}</b></div>"
        t0 = min((s.started for s in self.steps), default=0.0)
        rows = "".join(
            f"<tr><td>{i}</td><td>{html.escape(s.node)}</td><td>{s.role}</td><td>{html.escape(s.status)}</td>"
            f"<td>{s.started - t0:.2f}–{s.finished - t0:.2f} s</td><td>{html.escape(self._now(s))}</td>"
            f"<td>{html.escape(s.message[:200])}</td></tr>"
            for i, s in enumerate(self.steps, 1))
        return (f'<div class="ck-power-result"><b>{html.escape(self.headline())}</b><table><tr><th>#</th>'
                f"<th>node</th><th>role</th><th>status</th><th>when</th><th>now</th><th>message</th></tr>{rows}"
                "</table></div>")


def power_all(cluster: Cluster, action: str, *, timeout: float = 30.0, down_timeout: float = DOWN_TIMEOUT,
              reboot_timeout: float | None = None, on_step: Callable[[PowerStep], None] | None = None,
              on_back: Callable[[PowerStep], None] | None = None) -> PowerReport:
    """Power off or reboot every node, workers first; a reboot waits until they are back (at most ``reboot_timeout``,
    by default what the backend says its nodes' reboot takes: :data:`REBOOT_TIMEOUT` for boards)."""
    if action not in POWER_COMMANDS:
        raise ClusterkitError(f"is poweroff or reboot, not {action!r}", field="action")
    if action == "poweroff":
        return PowerReport(action, power_in_order(cluster, action, timeout=timeout, down_timeout=down_timeout,
                                                  on_step=on_step))
    if reboot_timeout is None:
        reboot_timeout = cluster.kind.reboot_timeout(cluster.inventory)
    if reboot_timeout <= 0:
        raise ClusterkitError(f"must be positive, not {reboot_timeout}", field="timeout")
    before = {n: r.stdout.strip() for n, r in cluster.run(BOOT_MARK, timeout=30).items() if r.ok}
    steps = power_in_order(cluster, action, timeout=timeout, on_step=on_step)
    return PowerReport(action, wait_back(cluster, steps, before=before, timeout=reboot_timeout, on_back=on_back))


def stop_all(cluster: Cluster, *, confirm: bool = False, progress: bool = True, timeout: float = 30.0) -> PowerReport:
    """Switch every node off: workers first, then the primary. Nothing happens without ``confirm=True``."""
    if confirm is not True:
        return PowerReport("poweroff", [], confirmed=False)
    with _Progress(progress) as show:
        return power_all(cluster, "poweroff", timeout=timeout, on_step=show)


def reboot_all(cluster: Cluster, *, confirm: bool = False, progress: bool = True,
               timeout: float | None = None) -> PowerReport:
    """Reboot every node (workers first), then wait until each answers again; nothing happens without ``confirm=True``."""
    if confirm is not True:
        return PowerReport("reboot", [], confirmed=False)
    with _Progress(progress) as show:
        return power_all(cluster, "reboot", reboot_timeout=timeout, on_step=show, on_back=show)


class _Progress:
    """One line per node as it goes, while it goes; in a notebook the lines go once the report is there.

    The report that the call returns says everything they said, so a notebook showed it all twice
    (the printed lines, then the table). In a kernel the lines live in one display that is emptied at
    the end; elsewhere (a terminal) they are printed, and stay.
    """

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.lines: list[str] = []
        self.handle = None

    def __enter__(self):
        if not self.enabled:
            return None
        from ..kernel import in_kernel
        if in_kernel():
            from IPython.display import display
            self.handle = display({"text/plain": "waiting for the first node…"}, raw=True, display_id=True)
        return self

    def __call__(self, step: PowerStep) -> None:
        what = step.now + (f" after {step.after:.1f} s" if step.after is not None else "")
        line = (f"{step.role} {step.node}: {step.status}, {what}"
                + (f" ({step.message[:100]})" if step.status != "ok" and step.message else ""))
        if self.handle is None:
            print(line, flush=True)
        else:
            self.lines.append(line)
            self.handle.update({"text/plain": "\n".join(self.lines)}, raw=True)

    def __exit__(self, *exc) -> None:
        if self.handle is not None and exc[0] is None:
            self.handle.update({"text/plain": ""}, raw=True)
