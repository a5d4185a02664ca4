"""Reboot all and stop all, safely: a confirmation, ``sync`` first, workers first, the primary last.

The order and the commands are the dashboard's (:func:`clusterkit.dashboard.power.power_in_order`),
so the shutdown button and these calls do the same thing. A reboot then waits,
with a bound, until every node answers again with a new PID 1 start (it really
went down and came back) and says how long each took. In the lab a node's
poweroff stops only that node; ``clusterkit lab up`` brings it back.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

from ..dashboard.power import LABELS, PowerStep, power_in_order, steps_html
from ..errors import ClusterkitError

#: Seconds a reboot may take before a node counts as not back.
REBOOT_TIMEOUT = 180.0
#: When PID 1 started: changes with every boot, on a board and on a lab node alike.
BOOT_MARK = "ps -o lstart= -p 1"


@dataclass
class PowerReport:
    """What stop all or reboot all did: each node's step in order, and for a reboot how long until it answered."""

    action: str
    steps: list[PowerStep]
    back: dict[str, float | None] | None = None   #: seconds until the node answered again (None: not back)
    confirmed: bool = True

    @property
    def order_ok(self) -> bool:
        """Every worker's command had returned before the primary's started."""
        workers = [s for s in self.steps if s.role == "worker"]
        primary = [s for s in self.steps if s.role == "primary"]
        return all(w.finished <= p.started for w in workers for p in primary)

    def text(self) -> str:
        if not self.confirmed:
            return (f"{LABELS[self.action]} was not confirmed: nothing was switched off. "
                    f"Call it again with confirm=True.")
        t0 = min((s.started for s in self.steps), default=0.0)
        lines = [f"{LABELS[self.action]}: workers first, then the primary"]
        for s in self.steps:
            extra = ""
            if self.back is not None and s.status == "ok":
                took = self.back.get(s.node)
                extra = f", back after {took:.1f} s" if took is not None else ", NOT back"
            lines.append(f"  {s.node:<10} {s.role:<8} {s.status:<8} at {s.started - t0:5.2f} s{extra}"
                         + (f"  ({s.message[:120]})" if s.message and s.status != "ok" else ""))
        return "\n".join(lines)

    __str__ = text

    def _repr_html_(self) -> str:
        if not self.confirmed:
            return f"<div><b>{html.escape(self.text())}</b></div>"
        out = steps_html(self.action, self.steps)
        if self.back is not None:
            rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{'not back' if t is None else f'{t:.1f} s'}</td></tr>"
                           for n, t in self.back.items())
            out += f"<div><b>Back up after the reboot</b><table><tr><th>node</th><th>took</th></tr>{rows}</table></div>"
        return out


def stop_all(cluster, *, confirm: bool = False, progress: bool = True, timeout: float = 30.0) -> PowerReport:
    """Switch every node off: workers first, then the primary. Nothing happens without ``confirm=True``."""
    if confirm is not True:
        return PowerReport("poweroff", [], confirmed=False)
    return PowerReport("poweroff", power_in_order(cluster, "poweroff", timeout=timeout, on_step=_printer(progress)))


def reboot_all(cluster, *, confirm: bool = False, progress: bool = True, timeout: float = REBOOT_TIMEOUT) -> PowerReport:
    """Reboot every node (workers first), then wait until each answers again; nothing happens without ``confirm=True``."""
    if confirm is not True:
        return PowerReport("reboot", [], confirmed=False)
    if timeout <= 0:
        raise ClusterkitError(f"must be positive, not {timeout}", field="timeout")
    before = {n: r.stdout.strip() for n, r in cluster.run(BOOT_MARK, timeout=30).items() if r.ok}
    steps = power_in_order(cluster, "reboot", on_step=_printer(progress))
    going = {s.node: s.finished for s in steps if s.status == "ok"}
    back: dict[str, float | None] = {n: None for n in going}
    deadline = time.monotonic() + timeout
    while any(v is None for v in back.values()) and time.monotonic() < deadline:
        waiting = [n for n, v in back.items() if v is None]
        for n in waiting:
            cluster[n].close()  # its old connection died with it
        res = cluster.run(BOOT_MARK, nodes=waiting, timeout=5)
        for n, r in res.items():
            if r.ok and r.stdout.strip() and r.stdout.strip() != before.get(n):
                back[n] = time.time() - going[n]
                if progress:
                    print(f"reboot: {n} is back after {back[n]:.1f} s", flush=True)
        if any(v is None for v in back.values()):
            time.sleep(1.0)
    return PowerReport("reboot", steps, back=back)


def _printer(enabled: bool):
    if not enabled:
        return None

    def show(step: PowerStep) -> None:
        print(f"{step.role} {step.node}: {step.status}" + (f" ({step.message[:100]})" if step.status != "ok" else ""),
              flush=True)
    return show
