"""The dashboard's panels, each a :class:`~.panel.Panel` (``source``, ``root``, ``update``).

Bars are replaced whole, time series are streamed with a rollover, so the
browser receives only the new points; an update that changes nothing sends nothing.
"""

from __future__ import annotations

import math
import time

import ipywidgets as widgets
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from ..leds import NUM_PIXELS, led_row_html
from .feed import NodeState
from .panel import Panel, alive_sample

#: The colour of a node whose agent is down.
DOWN = "#bbbbbb"
ALIVE = "#1f77b4"
OFF_ROW = ["#000000"] * NUM_PIXELS


def node_colours(nodes: list[str]) -> dict[str, str]:
    """Each node's colour (``#rrggbb``), by its place in the list: its line in the charts, its tiles and LEDs
    in the booth."""
    return {n: Category10_10[i % 10] for i, n in enumerate(nodes)}


def _figure(title: str, *, y_range: Range1d, x_range: list[str] | None = None, x_axis_type: str = "auto"):
    """A dashboard chart: ``x_range`` the nodes (bars) or None (a time axis, ``x_axis_type="datetime"``)."""
    nodes = {"x_range": x_range} if x_range is not None else {}   # bokeh refuses an x_range of None
    return figure(title=title, height=220, toolbar_location=None, sizing_mode="stretch_width", y_range=y_range,
                  x_axis_type=x_axis_type, **nodes)


class CpuBars(Panel):
    """One bar per node: its CPU percent now; grey (at zero) with the reason when its agent is down."""

    def __init__(self, nodes: list[str]):
        super().__init__(nodes)
        self.source = ColumnDataSource(self._data({}), name="cpu")
        fig = _figure("CPU % per node", x_range=nodes, y_range=Range1d(0, 100))
        fig.vbar(x="node", top="cpu", color="color", width=0.8, source=self.source)
        fig.add_tools(HoverTool(tooltips=[("node", "@node"), ("cpu", "@cpu %"), ("", "@state")]))
        fig.xaxis.major_label_orientation = 0.8 if len(nodes) > 8 else 0
        self.root = fig

    def _data(self, states: dict[str, NodeState]) -> dict:
        cpu, color, state = [], [], []
        for n in self.nodes:
            st, sample = states.get(n), alive_sample(states, n)
            if sample is not None:
                cpu.append(float(sample.cpu or 0.0))
                color.append(ALIVE)
                state.append("up")
            else:
                cpu.append(0.0)
                color.append(DOWN)
                state.append(f"down: {st.reason}" if st else "down")
        return {"node": list(self.nodes), "cpu": cpu, "color": color, "state": state}

    def update(self, states: dict[str, NodeState]) -> bool:
        data = self._data(states)
        if data == dict(self.source.data):
            return False
        self.source.data = data
        return True


class CpuSeries(Panel):
    """CPU percent per node over the last ``points`` updates, streamed one row at a time with a rollover.

    A node that is down has no value (a gap in its line). With ``resync`` set,
    the whole window is sent again every ``resync`` seconds, for pages (Voila)
    that drop points streamed before they had drawn.
    """

    def __init__(self, nodes: list[str], *, points: int = 240, resync: float | None = None):
        super().__init__(nodes)
        self.points = points
        self.resync = resync
        self.last_seq: dict[str, int] = {}
        self.last_sync = time.monotonic()
        self.source = ColumnDataSource({"time": [], **{n: [] for n in nodes}}, name="cpu_history")
        fig = _figure("CPU % over time", x_axis_type="datetime", y_range=Range1d(0, 100))
        legend = len(nodes) <= 10
        for n, colour in node_colours(nodes).items():
            named = {"legend_label": n} if legend else {}
            fig.line(x="time", y=n, source=self.source, color=colour, line_width=2, **named)
        if legend:
            fig.legend.location = "top_left"
            fig.legend.orientation = "horizontal"
            fig.legend.background_fill_alpha = 0.5
        self.root = fig

    def update(self, states: dict[str, NodeState]) -> bool:
        seqs = {n: st.seq for n, st in states.items()}
        if seqs == self.last_seq:
            return False
        self.last_seq = seqs
        row: dict = {}
        taken = []  # the row's time is when its newest sample was taken on its node
        for n in self.nodes:
            sample = alive_sample(states, n)
            row[n] = [float(sample.cpu or 0.0) if sample is not None else math.nan]
            if sample is not None:
                taken.append(float(sample.time))
        row["time"] = [1000.0 * (max(taken) if taken else time.time())]
        times = self.source.data["time"]
        if len(times) and row["time"][0] <= times[-1]:
            # A node's new sample is older than the newest one drawn: the last row (that moment) takes its value,
            # so the series never holds two points at one time.
            last = len(times) - 1
            self.source.patch({n: [(last, row[n][0])] for n in self.nodes})
            return True
        now = time.monotonic()
        if self.resync is not None and now - self.last_sync >= self.resync:
            self.last_sync = now
            data = {k: (list(v) + row[k])[-self.points:] for k, v in self.source.data.items()}
            self.source.data = data
        else:
            self.source.stream(row, rollover=self.points)
        return True


class SensorBars(Panel):
    """One bar per node that has the sensor; the chart shows only once some node has one."""

    title = ""
    color = ""
    top = 100
    name = ""

    def __init__(self, nodes: list[str]):
        super().__init__(nodes)
        self.source = ColumnDataSource(self._data({}), name=self.name)
        self.root = _figure(self.title, x_range=nodes, y_range=Range1d(0, self.top))
        self.root.vbar(x="node", top="value", width=0.8, color=self.color, source=self.source)
        self.root.visible = False

    def reading(self, sample) -> tuple[float, str] | None:
        """The sensor's value on a node and a note for its hover, or None without the sensor."""
        raise NotImplementedError

    def _data(self, states: dict[str, NodeState]) -> dict:
        data: dict = {"node": [], "value": [], "note": []}
        for n in self.nodes:
            sample = alive_sample(states, n)
            found = self.reading(sample) if sample is not None else None
            if found is not None:
                data["node"].append(n)
                data["value"].append(found[0])
                data["note"].append(found[1])
        return data

    def update(self, states: dict[str, NodeState]) -> bool:
        data = self._data(states)
        changed = False
        if data != dict(self.source.data):
            self.source.data = data
            changed = True
        if self.root.visible != bool(data["node"]):
            self.root.visible = bool(data["node"])
            changed = True
        return changed


class Temperatures(SensorBars):
    """Each node's temperature, where it has a sensor (a Pi's SoC)."""

    title, color, top, name = "Temperature °C", "#d62728", 90, "temp"

    def reading(self, sample) -> tuple[float, str] | None:
        return None if sample.temp is None else (float(sample.temp), "")


class Batteries(SensorBars):
    """Each node's battery percent and the time left, where it has a battery (a power bank that says)."""

    title, color, top, name = "Battery %", "#2ca02c", 100, "battery"

    def __init__(self, nodes: list[str]):
        super().__init__(nodes)
        self.root.add_tools(HoverTool(tooltips=[("node", "@node"), ("left", "@note")]))

    def reading(self, sample) -> tuple[float, str] | None:
        b = sample.battery
        if b is None:
            return None
        left = b.get("secs_left")
        return float(b["percent"]), f"{left // 3600} h {left % 3600 // 60:02d} min" if left is not None else ""


class LedRows(Panel):
    """The virtual LEDs: one row of eight pixels per node, exactly as its agent reports them.

    ``rows`` holds each node's row as HTML; ``source`` is the one widget that shows them all.
    """

    def __init__(self, nodes: list[str]):
        super().__init__(nodes)
        self.rows = {n: led_row_html(OFF_ROW, node=n, alive=False, reason="starting") for n in nodes}
        self.source = self.root = widgets.HTML("".join(self.rows.values()), layout=widgets.Layout(padding="4px"))
        self.root.add_class("ck-leds")

    def update(self, states: dict[str, NodeState]) -> bool:
        for n in self.nodes:
            st, sample = states.get(n), alive_sample(states, n)
            if sample is not None:
                self.rows[n] = led_row_html(sample.leds or OFF_ROW, node=n,
                                            brightness=1.0 if sample.brightness is None else float(sample.brightness))
            else:
                self.rows[n] = led_row_html(OFF_ROW, node=n, alive=False, reason=st.reason if st else "down")
        value = "".join(self.rows.values())
        if self.source.value == value:
            return False
        self.source.value = value
        return True
