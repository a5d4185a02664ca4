"""Reboot all and stop all, safely: a confirmation, ``sync`` first, workers first, the primary last.

The order, the commands and the report are the dashboard's
(:func:`clusterkit.dashboard.power.power_all`), so the shutdown button and these
calls do the same thing. A poweroff watches each node until it no longer
answers; a reboot waits, with a bound, until every node answers again with a
new PID 1 start (it really went down and came back) and says how long each
took. In the lab a node's poweroff stops only that node; ``clusterkit lab up``
brings it back.
"""

from __future__ import annotations

from ..dashboard.power import DOWN_TIMEOUT, REBOOT_TIMEOUT, PowerReport, PowerStep, power_all

__all__ = ["PowerReport", "stop_all", "reboot_all", "REBOOT_TIMEOUT", "DOWN_TIMEOUT"]


def stop_all(cluster, *, confirm: bool = False, progress: bool = True, timeout: float = 30.0) -> PowerReport:
    """Switch every node off: workers first, then the primary. Nothing happens without ``confirm=True``."""
    if confirm is not True:
        return PowerReport("poweroff", [], confirmed=False)
    return power_all(cluster, "poweroff", timeout=timeout, on_step=_printer(progress))


def reboot_all(cluster, *, confirm: bool = False, progress: bool = True, timeout: float = REBOOT_TIMEOUT) -> PowerReport:
    """Reboot every node (workers first), then wait until each answers again; nothing happens without ``confirm=True``."""
    if confirm is not True:
        return PowerReport("reboot", [], confirmed=False)
    return power_all(cluster, "reboot", reboot_timeout=timeout, on_step=_printer(progress),
                     on_back=_printer(progress))


def _printer(enabled: bool):
    if not enabled:
        return None

    def show(step: PowerStep) -> None:
        what = step.now + (f" after {step.after:.1f} s" if step.after is not None else "")
        print(f"{step.role} {step.node}: {step.status}, {what}"
              + (f" ({step.message[:100]})" if step.status != "ok" and step.message else ""), flush=True)
    return show
