"""The dashboard's parts. Each owns ``.source`` (a named ColumnDataSource), ``.root``
(the bokeh model or widget) and ``.update(states)``; an update that changes
nothing sends nothing. Bars are replaced whole, time series are streamed with a
rollover, so the browser receives only the new points.
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

#: The colour of a node whose agent is down.
DOWN = "#bbbbbb"
ALIVE = "#1f77b4"
OFF_ROW = ["#000000"] * NUM_PIXELS


def _figure(title: str, **kw):
    return figure(title=title, height=220, toolbar_location=None, sizing_mode="stretch_width", **kw)


class CpuBars:
    """One bar per node: its CPU percent now; grey (at zero) with the reason when its agent is down."""

    def __init__(self, nodes: list[str]):
        self.nodes = nodes
        self.source = ColumnDataSource(self._data({}), name="cpu")
        fig = _figure("CPU % per node", x_range=nodes, y_range=Range1d(0, 100))
        fig.vbar(x="node", top="cpu", color="color", width=0.8, source=self.source)
        fig.add_tools(HoverTool(tooltips=[("node", "@node"), ("cpu", "@cpu %"), ("", "@state")]))
        fig.xaxis.major_label_orientation = 0.8 if len(nodes) > 8 else 0
        self.root = fig

    def _data(self, states: dict[str, NodeState]) -> dict:
        cpu, color, state = [], [], []
        for n in self.nodes:
            st = states.get(n)
            if st is not None and st.alive and st.sample:
                cpu.append(float(st.sample.get("cpu", 0.0)))
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


class CpuSeries:
    """CPU percent per node over the last ``points`` updates, streamed one row at a time with a rollover.

    A node that is down has no value (a gap in its line). With ``resync`` set,
    the whole window is sent again every ``resync`` seconds, for pages (Voila)
    that drop points streamed before they had drawn.
    """

    def __init__(self, nodes: list[str], *, points: int = 240, resync: float | None = None):
        self.nodes = nodes
        self.points = points
        self.resync = resync
        self.last_seq: dict[str, int] = {}
        self.last_sync = time.monotonic()
        self.source = ColumnDataSource({"time": [], **{n: [] for n in nodes}}, name="cpu_history")
        fig = _figure("CPU % over time", x_axis_type="datetime", y_range=Range1d(0, 100))
        legend = len(nodes) <= 10
        for i, n in enumerate(nodes):
            named = {"legend_label": n} if legend else {}
            fig.line(x="time", y=n, source=self.source, color=Category10_10[i % 10], line_width=2, **named)
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
            st = states.get(n)
            ok = st is not None and st.alive and st.sample
            row[n] = [float(st.sample.get("cpu", 0.0)) if ok else math.nan]
            if ok and "time" in st.sample:
                taken.append(float(st.sample["time"]))
        row["time"] = [1000.0 * (max(taken) if taken else time.time())]
        now = time.monotonic()
        if self.resync is not None and now - self.last_sync >= self.resync:
            self.last_sync = now
            data = {k: (list(v) + row[k])[-self.points:] for k, v in self.source.data.items()}
            self.source.data = data
        else:
            self.source.stream(row, rollover=self.points)
        return True


class Sensors:
    """Temperature and battery bars, shown only once some node has such a sensor."""

    def __init__(self, nodes: list[str]):
        self.nodes = nodes
        self.source = ColumnDataSource({"node": [], "temp": []}, name="temp")
        self.battery = ColumnDataSource({"node": [], "percent": [], "left": []}, name="battery")
        self.temp_fig = _figure("Temperature °C", x_range=nodes, y_range=Range1d(0, 90))
        self.temp_fig.vbar(x="node", top="temp", width=0.8, color="#d62728", source=self.source)
        self.battery_fig = _figure("Battery %", x_range=nodes, y_range=Range1d(0, 100))
        self.battery_fig.vbar(x="node", top="percent", width=0.8, color="#2ca02c", source=self.battery)
        self.battery_fig.add_tools(HoverTool(tooltips=[("node", "@node"), ("left", "@left")]))
        self.temp_fig.visible = self.battery_fig.visible = False
        self.root = (self.temp_fig, self.battery_fig)

    def update(self, states: dict[str, NodeState]) -> bool:
        temp = {"node": [], "temp": []}
        batt = {"node": [], "percent": [], "left": []}
        for n in self.nodes:
            st = states.get(n)
            s = st.sample if st is not None and st.alive and st.sample else {}
            if "temp" in s:
                temp["node"].append(n)
                temp["temp"].append(float(s["temp"]))
            if "battery" in s:
                b = s["battery"]
                batt["node"].append(n)
                batt["percent"].append(float(b["percent"]))
                left = b.get("secs_left")
                batt["left"].append(f"{left // 3600} h {left % 3600 // 60:02d} min" if left is not None else "")
        changed = False
        for src, fig, data in ((self.source, self.temp_fig, temp), (self.battery, self.battery_fig, batt)):
            if data != dict(src.data):
                src.data = data
                changed = True
            if fig.visible != bool(data["node"]):
                fig.visible = bool(data["node"])
                changed = True
        return changed


class LedRows:
    """The virtual LEDs: one row of eight pixels per node, exactly as its agent reports them."""

    def __init__(self, nodes: list[str]):
        self.nodes = nodes
        self.rows = {n: widgets.HTML(led_row_html(OFF_ROW, node=n, alive=False, reason="starting"))
                     for n in nodes}
        self.source = self.rows
        self.root = widgets.VBox(list(self.rows.values()), layout=widgets.Layout(padding="4px"))
        self.root.add_class("ck-leds")

    def update(self, states: dict[str, NodeState]) -> bool:
        changed = False
        for n, row in self.rows.items():
            st = states.get(n)
            if st is not None and st.alive and st.sample:
                value = led_row_html(st.sample.get("leds", OFF_ROW), node=n,
                                     brightness=float(st.sample.get("brightness", 1.0)))
            else:
                value = led_row_html(OFF_ROW, node=n, alive=False, reason=st.reason if st else "down")
            if row.value != value:
                row.value = value
                changed = True
        return changed
