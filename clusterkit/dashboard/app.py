"""The live dashboard: one widget with load charts, the virtual LEDs and the buttons.

``cluster.dashboard()`` starts one agent per node and a thread that turns their
samples into chart updates; ``.close()`` stops both (the agents clear their LEDs).
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as widgets
from bokeh.layouts import column, row

from ..errors import ClusterkitError
from ..kernel import load_bokehjs
from ..leds import PATTERNS, parse_colour
from ..ops.power import LABELS, PowerReport, PowerStep, power_all
from .carriers import CarrierGroups
from .components import Batteries, CpuBars, CpuSeries, LedRows, Temperatures
from .feed import AgentFeed, NodeState, agent_command
from .panel import PageModel, Panel

if TYPE_CHECKING:
    from ..cluster import Cluster

#: Seconds between agent samples.
DEFAULT_INTERVAL = 0.5
#: Seconds of history in the time series.
DEFAULT_WINDOW = 60.0
#: Seconds between bar refreshes (the bars are replaced whole).
BAR_PERIOD = 1.0
#: Most chart updates a second; samples arriving together are sent together.
MAX_RATE = 4.0
#: Seconds that samples arriving close together are gathered before an update.
GATHER = 0.03
#: A node whose agent has said nothing for this many intervals counts as down.
SILENT_INTERVALS = 6
BUTTON_LABELS = {"larson": "Larson scanner", "cpu": "CPU bar", "identify": "Identify", "clear": "Clear"}
#: Where a panel goes: a widget above the charts, a figure in the charts (two a row), a widget below them.
ABOVE, CHART, BELOW = "above", "chart", "below"


@dataclass(frozen=True)
class Placed:
    """A panel of the dashboard, where it is laid out, and how often :meth:`Dashboard.update` refreshes it."""

    panel: Panel
    where: str                #: :data:`ABOVE`, :data:`CHART` or :data:`BELOW`
    every_update: bool        #: False: once per :data:`BAR_PERIOD`, or as soon as a node goes down


class Dashboard(widgets.VBox):
    """Live load of every node, their LEDs, and LED and power buttons (one ipywidget).

    ``power=False`` hides the reboot and shutdown buttons (the booth kiosk
    without an instructor). ``resync`` (seconds) resends the time series whole
    now and then, for pages that drop points streamed before they drew.
    ``agents=False`` starts neither agents nor the update thread: the caller
    sets ``feeds`` (objects with a ``.state``) and calls :meth:`update` (benchmarks).
    ``controls=False`` hides the LED buttons too (the booth for visitors).
    """

    def __init__(self, cluster: Cluster, *, interval: float = DEFAULT_INTERVAL, window: float = DEFAULT_WINDOW,
                 power: bool = True, resync: float | None = None, title: str | None = None,
                 agents: bool = True, controls: bool = True):
        if interval <= 0:
            raise ClusterkitError(f"must be positive, not {interval}", field="interval")
        self.cluster = cluster
        self.interval = interval
        self.names = [n.name for n in cluster]
        self.bars = CpuBars(self.names)
        self.series = CpuSeries(self.names, points=int(window * min(MAX_RATE, 1.0 / interval)) + 1,
                                resync=resync)
        self.temperatures = Temperatures(self.names)
        self.batteries = Batteries(self.names)
        self.leds = LedRows(self.names)
        load_bokehjs()
        self.updates = 0
        self.power_log: list[PowerStep] = []
        #: What the last confirmed reboot or shutdown did (a table that stays readable after :meth:`close`).
        self.power_report: PowerReport | None = None
        self._pending: str | None = None
        self._bars_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._update_lock = threading.Lock()
        head = title or f"{html.escape(cluster.name)}: {len(self.names)} nodes on the {cluster.backend} backend"
        self.status = widgets.HTML(f"<b>{head}</b>")
        groups = cluster.groups   # joined carriers: one group each
        self.carriers = CarrierGroups(groups) if groups else None
        #: Every panel, in the order of the page: what the layout and :meth:`update` both read.
        self.panels = ([Placed(self.carriers, ABOVE, True)] if self.carriers else []) + [
            Placed(self.bars, CHART, False), Placed(self.series, CHART, True),
            Placed(self.temperatures, CHART, False), Placed(self.batteries, CHART, False),
            Placed(self.leds, BELOW, True)]
        figures = [p.panel.root for p in self.panels if p.where == CHART]
        self.chart = PageModel(column([row(figures[i:i + 2], sizing_mode="stretch_width")
                                       for i in range(0, len(figures), 2)], sizing_mode="stretch_width"))
        super().__init__([self.status] + [p.panel.root for p in self.panels if p.where == ABOVE]
                         + [self.chart] + [p.panel.root for p in self.panels if p.where == BELOW]
                         + ([self._led_controls()] if controls else [])
                         + ([self._power_controls()] if power else []))
        self.add_class("ck-dashboard")
        python = cluster.inventory.python
        self.feeds = {n.name: AgentFeed(n, command=agent_command(n, python=python, interval=interval),
                                        on_sample=self._on_sample) for n in cluster} if agents else {}
        for f in self.feeds.values():
            f.start()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="clusterkit-dashboard")
        if agents:
            self._thread.start()

    # ------------------------------------------------------------ state
    def states(self) -> dict[str, NodeState]:
        """Every node's latest sample, or why it is down (silent agents count as down)."""
        now = time.monotonic()
        out = {}
        for name, f in self.feeds.items():
            st = f.state
            if st.alive and now - st.received > SILENT_INTERVALS * self.interval:
                st = NodeState(name, sample=st.sample, alive=False, seq=st.seq,
                               reason=f"agent silent for {now - st.received:.0f} s")
            out[name] = st
        return out

    def cpu(self) -> dict[str, float | None]:
        """Every node's CPU percent now (None where its agent is down)."""
        return {n: (s.sample.cpu if s.alive and s.sample else None) for n, s in self.states().items()}

    def _on_sample(self, _state: NodeState) -> None:
        self._wake.set()

    def update(self) -> bool:
        """Bring every part up to date; True when anything was sent to the page."""
        with self._update_lock:
            states = self.states()
            now = time.monotonic()
            due = now - self._bars_at >= BAR_PERIOD or any(not s.alive for s in states.values())
            changed = False
            for placed in self.panels:
                if placed.every_update or due:
                    changed = placed.panel.update(states) or changed
            if due:
                self._bars_at = now
            if changed:
                self.updates += 1
            return changed

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval * 2)  # also wakes now and then to notice silent agents
            if self._stop.is_set():
                break
            self._stop.wait(GATHER)
            self._wake.clear()
            t0 = time.monotonic()
            try:
                self.update()
            except Exception as e:  # a broken update must not end the dashboard
                self.status.value = f"<b>dashboard update failed:</b> {html.escape(repr(e))}"
            self._stop.wait(max(0.0, 1.0 / MAX_RATE - (time.monotonic() - t0) - GATHER))

    # ------------------------------------------------------------ LEDs
    def _chosen(self, nodes) -> list[str]:
        if nodes is None:
            return list(self.names)
        return [n.name for n in self.cluster.select(nodes)]

    def set_pattern(self, pattern: str, *, nodes=None) -> list[str]:
        """Show an LED pattern on the chosen nodes (all by default); the nodes that got it."""
        if pattern not in PATTERNS:
            raise ClusterkitError(f"unknown pattern {pattern!r}; the patterns are {', '.join(PATTERNS)}",
                                  field="pattern")
        return [n for n in self._chosen(nodes) if self.feeds[n].send({"pattern": pattern})]

    def fill(self, colour: str, *, nodes=None) -> list[str]:
        """Light every LED of the chosen nodes in one colour (``#rrggbb``); the nodes that got it."""
        parse_colour(colour)
        return [n for n in self._chosen(nodes) if self.feeds[n].send({"fill": colour})]

    def set_brightness(self, value: float, *, nodes=None) -> list[str]:
        if not 0.0 <= value <= 1.0:
            raise ClusterkitError(f"must be between 0 and 1, not {value}", field="brightness")
        return [n for n in self._chosen(nodes) if self.feeds[n].send({"brightness": value})]

    def watch(self, pids: dict[str, list[int]]) -> list[str]:
        """Count these processes (and their children) as their node's, e.g. the engines of each node.

        Local agents already count every process started with the node's
        ``CLUSTERKIT_NODE``; this adds processes started some other way.
        """
        return [n for n, p in pids.items() if n in self.feeds and self.feeds[n].send({"pids": [int(x) for x in p]})]

    def _led_controls(self) -> widgets.Widget:
        self.node_picker = widgets.SelectMultiple(options=self.names, rows=min(4, len(self.names)),
                                                  description="Nodes", layout=widgets.Layout(width="14em"))
        self.pattern_buttons = {}
        for p in PATTERNS:
            b = widgets.Button(description=BUTTON_LABELS[p], tooltip=f"LED pattern {p} on the chosen nodes "
                               "(all when none is chosen)")
            b.add_class(f"ck-pattern-{p}")
            b.on_click(lambda _b, p=p: self.set_pattern(p, nodes=list(self.node_picker.value) or None))
            self.pattern_buttons[p] = b
        self.brightness = widgets.FloatSlider(value=0.2, min=0.05, max=1.0, step=0.05, description="Brightness",
                                              continuous_update=False)
        self.brightness.observe(lambda ch: self.set_brightness(ch["new"],
                                                               nodes=list(self.node_picker.value) or None),
                                names="value")
        return widgets.HBox([self.node_picker,
                             widgets.VBox([widgets.HBox(list(self.pattern_buttons.values())), self.brightness])])

    # ------------------------------------------------------------ power
    def _power_controls(self) -> widgets.Widget:
        self.power_buttons = {}
        for action in ("reboot", "poweroff"):
            b = widgets.Button(description=f"{LABELS[action]} all…", button_style="warning",
                               tooltip="asks for confirmation first")
            b.add_class(f"ck-{action}")
            b.on_click(lambda _b, a=action: self.request(a))
            self.power_buttons[action] = b
        self.confirm_button = widgets.Button(description="Yes, do it", button_style="danger")
        self.cancel_button = widgets.Button(description="Cancel")
        self.confirm_button.on_click(lambda _b: self.confirm())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.confirm_text = widgets.HTML()
        self.confirm_box = widgets.HBox([self.confirm_text, self.confirm_button, self.cancel_button],
                                        layout=widgets.Layout(display="none"))
        self.power_result = widgets.HTML()
        return widgets.VBox([widgets.HBox(list(self.power_buttons.values())), self.confirm_box, self.power_result])

    def request(self, action: str) -> "PowerQuestion":
        """The first press of reboot/shut down: nothing happens yet, a confirmation is asked (and returned)."""
        if action not in LABELS:
            raise ClusterkitError(f"is poweroff or reboot, not {action!r}", field="action")
        self._pending = action
        question = PowerQuestion(action, nodes=len(self.names), workers=[w.name for w in self.cluster.workers],
                                 primary=self.cluster.inventory.primary)
        self.confirm_text.value = question.html_line()
        self.confirm_box.layout.display = "flex"
        return question

    def cancel(self) -> None:
        self._pending = None
        self.confirm_box.layout.display = "none"
        self.confirm_text.value = ""

    def confirm(self, *, wait: bool = False) -> threading.Thread | None:
        """The second press: run the pending action (in a thread, so the page stays live); None if nothing pends.

        The table under the buttons grows as each node goes; :attr:`power_report` has the whole outcome.
        """
        action, self._pending = self._pending, None
        self.confirm_box.layout.display = "none"
        if action is None:
            return None
        head = f"<b>{LABELS[action]}</b>: workers first, then the primary…"
        self.power_result.value = head
        done: list[str] = []

        def progress(step: PowerStep) -> None:
            what = step.now + (f" after {step.after:.1f} s" if step.after is not None else "")
            done.append(f"{html.escape(step.node)} ({step.role}): {html.escape(step.status)}, {html.escape(what)}")
            self.power_result.value = head + "<br>" + "<br>".join(done)

        def work() -> None:
            try:
                report = power_all(self.cluster, action, on_step=progress, on_back=progress)
                self.power_report, self.power_log = report, report.steps
                self.power_result.value = report._repr_html_()
            except Exception as e:  # shown on the page, never lost in a thread
                self.power_result.value = f"<b>{LABELS[action]} failed:</b> {html.escape(str(e))}"

        t = threading.Thread(target=work, daemon=True, name=f"clusterkit-{action}")
        t.start()
        if wait:
            t.join()
        return t

    # ------------------------------------------------------------ lifetime
    def wait_for_samples(self, *, timeout: float = 10.0) -> bool:
        """Wait until every node has sent a sample (True), or the timeout passed."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if all(f.state.seq > 0 for f in self.feeds.values()):
                return True
            time.sleep(0.05)
        return False

    def close(self, *, keep_picture: bool = True) -> None:
        """Stop the update thread and every agent (they clear their LEDs).

        ``keep_picture`` (the default, for notebooks) leaves the widget on the page as a still
        picture of what it showed last, its buttons disabled and its title saying when it
        stopped: a closed widget would leave a blank output where the charts were.
        ``keep_picture=False`` closes the widget too (the booth, which replaces it).
        """
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)
        threads = [threading.Thread(target=f.close, daemon=True) for f in self.feeds.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        if keep_picture:
            self._freeze()
            return
        self.chart.close()
        super().close()

    def _freeze(self) -> None:
        """Disable every control and say on the title that this is the last picture."""
        stack = list(self.children)
        while stack:
            w = stack.pop()
            if isinstance(w, widgets.Box):
                stack.extend(w.children)
            elif hasattr(w, "disabled") and not isinstance(w, widgets.HTML):
                w.disabled = True
        if getattr(self, "confirm_box", None) is not None:
            self.confirm_box.layout.display = "none"
        if "stopped at" not in self.status.value:
            self.status.value += (f" <i>(stopped at {time.strftime('%H:%M:%S')}: the last picture it drew, "
                                  "no longer live)</i>")

    def __repr__(self) -> str:
        up = sum(1 for s in self.states().values() if s.alive)
        return f"<Dashboard {self.cluster.name}: {up}/{len(self.names)} agents up, {self.updates} updates>"


class PowerQuestion:
    """The question a first press of reboot/shut down asks (it stays readable in a notebook after the dashboard closes)."""

    def __init__(self, action: str, *, nodes: int, workers: list[str], primary: str):
        self.action, self.nodes, self.workers, self.primary = action, nodes, workers, primary

    def text(self) -> str:
        return (f"{LABELS[self.action]} all {self.nodes} nodes? Workers first ({', '.join(self.workers) or 'none'}), "
                f"then the primary {self.primary}. Nothing happens until it is confirmed "
                "(the dashboard's 'Yes, do it', or dash.confirm()).")

    def html_line(self) -> str:
        return (f"<b>{LABELS[self.action]} all {self.nodes} nodes?</b> Workers first "
                f"({html.escape(', '.join(self.workers) or 'none')}), then the primary {html.escape(self.primary)}. ")

    __repr__ = text

    def _repr_html_(self) -> str:
        return (f"<div>{self.html_line()}<i>Nothing happens until it is confirmed (the dashboard's "
                "<b>Yes, do it</b>, or <code>dash.confirm()</code>).</i></div>")
