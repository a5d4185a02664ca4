"""Shut down or reboot every node in a safe order: workers first, the primary last.

The primary serves the others (NFS, time), so it goes last. Each node's step is
recorded with its start and end times, so the order can be checked. On the
local backend the privileged command is refused, and every row says so.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, replace
from typing import Callable

from ..results import NodeResult

#: The command each node runs; ``sync`` first so nothing written is lost.
COMMANDS = {"poweroff": "sync; poweroff", "reboot": "sync; reboot"}
#: What the buttons call each action.
LABELS = {"poweroff": "Shut down", "reboot": "Reboot"}


@dataclass(frozen=True)
class PowerStep:
    """One node's part: when its command started and ended, how it went, and whether it went down."""

    node: str
    role: str            #: "worker" or "primary"
    status: str          #: the command's status (ok, refused, failed, unreachable, …)
    started: float       #: wall-clock seconds
    finished: float
    message: str = ""
    down: bool = False   #: it no longer answers


def went_down(result: NodeResult) -> bool:
    """Whether the command may have taken the node down: it ran, or the connection dropped under it."""
    return result.status in ("ok", "unreachable", "timeout") or (
        result.status == "failed" and result.exit_code in (None, 255, -1, -9, 137))


def power_in_order(cluster, action: str, *, timeout: float = 30.0,
                   on_step: Callable[[PowerStep], None] | None = None) -> list[PowerStep]:
    """Run ``poweroff`` or ``reboot`` on every worker at once, then, when all have answered, on the primary.

    ``on_step`` is called with each node's step as soon as its group has answered (progress).
    """
    if action not in COMMANDS:
        raise ValueError(f"action is poweroff or reboot, not {action!r}")
    steps: list[PowerStep] = []
    primary = cluster.inventory.primary
    for role, names in (("worker", [w.name for w in cluster.workers]), ("primary", [primary])):
        if not names:
            continue
        t0 = time.time()
        result = cluster.sudo(COMMANDS[action], nodes=names, timeout=timeout)
        t1 = time.time()
        for name in names:
            r = result[name]
            steps.append(PowerStep(node=name, role=role, status=r.status, started=t0, finished=t1,
                                   message=(r.error or r.stderr or "").strip(), down=went_down(r)))
            if on_step is not None:
                on_step(steps[-1])
    if action == "poweroff":  # a node is down when it no longer answers
        maybe = [s.node for s in steps if s.down]
        answers = cluster.run("true", nodes=maybe, timeout=5.0) if maybe else {}
        steps = [replace(s, down=s.down and not answers[s.node].ok) for s in steps]
    return steps


def steps_html(action: str, steps: list[PowerStep]) -> str:
    """A table of the steps in the order they ran, with which nodes went down."""
    t0 = min((s.started for s in steps), default=0.0)
    rows = "".join(
        f"<tr><td>{i}</td><td>{html.escape(s.node)}</td><td>{s.role}</td><td>{html.escape(s.status)}</td>"
        f"<td>{s.started - t0:.2f}–{s.finished - t0:.2f} s</td><td>{'down' if s.down else 'still up'}</td>"
        f"<td>{html.escape(s.message[:200])}</td></tr>"
        for i, s in enumerate(steps, 1))
    down = [s.node for s in steps if s.down]
    head = (f"<b>{LABELS[action]}</b>: {len(down)} of {len(steps)} nodes went down"
            + (f" ({', '.join(map(html.escape, down))})" if down else ""))
    refused = [s.node for s in steps if s.status == "refused"]
    if refused:
        head += (f". <b>Refused on {', '.join(map(html.escape, refused))}</b>: this backend has no root, "
                 "so nothing was switched off (on the lab or real boards it would be).")
    return (f'<div class="ck-power-result">{head}<table><tr><th>#</th><th>node</th><th>role</th><th>status</th>'
            f"<th>when</th><th>now</th><th>message</th></tr>{rows}</table></div>")
