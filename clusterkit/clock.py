"""How far each node's clock is from the cluster's time: chronyc's view per node, a table and a small chart.

``skew()`` asks every node's chronyd (``chronyc -n tracking`` and ``sources``);
``wait_for_sync()`` waits, with a bound, until every worker follows a source.
A node where no chronyd answers (the local backend runs none) shows "n/a":
no number is ever made up.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .results import html_block

if TYPE_CHECKING:
    from .cluster import Cluster

TRACKING = "chronyc -n tracking; echo '--- sources'; chronyc -n sources"


@dataclass(frozen=True)
class Clock:
    """One node's clock as its chronyd sees it (None: not known)."""

    node: str
    offset: float | None = None      #: seconds, + when this clock is ahead
    stratum: int | None = None
    reference: str | None = None     #: the source it follows (address), or "local" when it serves its own clock
    leap: str | None = None          #: "Normal" once synchronised
    sources: int | None = None       #: sources listed
    selected: str | None = None      #: the source marked '*'
    note: str = ""
    kept: bool = True                #: whether a time service keeps it (False: nothing to wait for)

    @property
    def synced(self) -> bool:
        return self.leap == "Normal"


def parse_tracking(node: str, text: str) -> Clock:
    """A :class:`Clock` from ``chronyc -n tracking`` (and ``sources``) output."""
    def field(name: str) -> str | None:
        m = re.search(rf"^{name}\s*:\s*(.+)$", text, re.M)
        return m.group(1).strip() if m else None

    offset = None
    m = re.search(r"^System time\s*:\s*([\d.]+) seconds (fast|slow)", text, re.M)
    if m:
        offset = float(m.group(1)) * (1 if m.group(2) == "fast" else -1)
    ref = field("Reference ID")
    reference = None
    if ref:
        m2 = re.search(r"\(([^)]*)\)", ref)
        reference = m2.group(1) if m2 else ref
        if reference in ("LOCL", "7F7F0101") or ref.startswith("7F7F0101"):
            reference = "local"
    stratum = field("Stratum")
    _, _, src = text.partition("--- sources")
    lines = [ln for ln in src.splitlines() if re.match(r"^[\^=#][*+\-?x~ ]", ln)]
    selected = next((ln.split()[1] for ln in lines if len(ln) > 1 and ln[1] == "*"), None)
    return Clock(node=node, offset=offset, stratum=int(stratum) if stratum and stratum.isdigit() else None,
                 reference=reference, leap=field("Leap status"), sources=len(lines), selected=selected)


class Skew:
    """Every node's :class:`Clock`: a table (``_repr_html_``), text, and a small bokeh chart (:meth:`chart`)."""

    def __init__(self, clocks: dict[str, Clock], *, note: str = ""):
        self.clocks = clocks
        self.note = note

    def __getitem__(self, node: str) -> Clock:
        return self.clocks[node]

    @property
    def measured(self) -> dict[str, float]:
        return {n: c.offset for n, c in self.clocks.items() if c.offset is not None}

    @property
    def spread(self) -> float | None:
        """Largest minus smallest offset (seconds), None when fewer than two nodes were measured."""
        values = list(self.measured.values())
        return max(values) - min(values) if len(values) > 1 else None

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        out = []
        for n, c in self.clocks.items():
            out.append((n, "n/a" if c.offset is None else f"{c.offset * 1e3:+.3f} ms",
                        "n/a" if c.stratum is None else str(c.stratum), c.reference or "n/a",
                        c.leap or "n/a", c.note or (f"{c.sources} source(s), following {c.selected}"
                                                    if c.selected else f"{c.sources or 0} source(s)")))
        return out

    def text(self) -> str:
        head = ("node", "offset", "stratum", "reference", "leap", "sources")
        rows = [head] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(([self.note] if self.note else []) + lines)

    __str__ = text

    def __repr__(self) -> str:
        return f"<Skew {len(self.measured)}/{len(self.clocks)} measured>"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("node", "offset", "stratum", "reference", "leap", "sources"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in self.rows())
        note = f"<div><i>{html.escape(self.note)}</i></div>" if self.note else ""
        return html_block(f"<b>Clock offsets (chronyc)</b>{note}<table><tr>{head}</tr>{body}</table>")

    def chart(self):
        """A small bar chart of the offsets in milliseconds (bokeh); nodes not measured show no bar."""
        from bokeh.models import BasicTickFormatter, ColumnDataSource, Range1d, Span
        from bokeh.plotting import figure
        nodes = list(self.clocks)
        values = [(self.clocks[n].offset or 0.0) * 1e3 for n in nodes]
        labels = ["n/a" if self.clocks[n].offset is None else f"{v:+.3f}" for n, v in zip(nodes, values)]
        source = ColumnDataSource({"node": nodes, "ms": values, "label": labels}, name="skew")
        low, high = chart_range(values)
        fig = figure(x_range=nodes, y_range=Range1d(low, high), height=220, width=420,
                     title="clock offset per node (ms)", toolbar_location=None, tools="")
        fig.add_layout(Span(location=0, dimension="width", line_color="gray", line_width=1))
        fig.vbar(x="node", top="ms", width=0.6, source=source)
        fig.text(x="node", y="ms", text="label", source=source, text_font_size="9pt", text_align="center",
                 y_offset=-4)
        fig.yaxis.axis_label = "ms (+ ahead)"
        fig.yaxis.formatter = BasicTickFormatter(use_scientific=False)
        return fig

    def show(self) -> None:
        """The chart in a notebook (BokehJS inline, no internet); the table as text elsewhere."""
        from .kernel import in_kernel, load_bokehjs
        if not in_kernel():
            print(self.text())
            return
        load_bokehjs()
        from bokeh.io import show
        show(self.chart())


#: The chart's y axis spans at least ± this many milliseconds: a skew of microseconds is "none", not a full-height bar.
MIN_HALF_RANGE_MS = 1.0


def chart_range(values_ms: list[float]) -> tuple[float, float]:
    """A y range around zero that holds every offset with room for its label, never narrower than ±1 ms."""
    half = max([MIN_HALF_RANGE_MS] + [abs(v) * 1.25 for v in values_ms])
    return -half, half


def skew(cluster: Cluster, *, nodes=None) -> Skew:
    """Ask every node's chronyd how far its clock is; a node whose Platform says no chronyd can tell is not
    asked (the local backend's sandboxes: no chronyd runs there)."""
    chosen = cluster.inventory.select(nodes)
    unread = {n: why for n in chosen if (why := cluster[n].platform.why_clock_unread()) is not None}
    asked = [n for n in chosen if n not in unread]
    res = cluster.run(TRACKING, nodes=asked, timeout=30) if asked else {}
    clocks = {}
    for n in chosen:
        if n in unread:
            clocks[n] = Clock(n, note=unread[n], kept=False)
        else:
            r = res[n]
            clocks[n] = parse_tracking(n, r.stdout) if r.ok else Clock(n, note=f"chronyc: {r.summary()}")
    notes = dict.fromkeys(note for n in chosen if (note := cluster[n].platform.clock_note()))
    return Skew(clocks, note="; ".join(notes))


def wait_for_sync(cluster: Cluster, *, nodes=None, timeout: float = 60.0, interval: float = 1.0) -> Skew:
    """Poll until every chosen node is synchronised (leap status Normal), at most ``timeout`` seconds.

    Returns the last measurement; nodes still not synchronised are marked in its notes.
    """
    deadline = time.monotonic() + timeout
    while True:
        s = skew(cluster, nodes=nodes)
        late = [n for n, c in s.clocks.items() if c.kept and not c.synced]
        if not late:
            return s
        if time.monotonic() >= deadline:
            s.note = (s.note + "; " if s.note else "") + f"not synchronised within {timeout:g} s: {', '.join(late)}"
            return s
        time.sleep(interval)
