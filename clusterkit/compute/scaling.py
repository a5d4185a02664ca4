"""Speedup and efficiency: the same job on 1, 2, … engines, timed, tabled and drawn.

Strong scaling: the job stays the same size, the engines grow. Speedup is the
one-engine time over the k-engine time; efficiency is speedup over k. Each
point is the median of a few runs, so one slow run does not bend the line.
"""

from __future__ import annotations

import html
import statistics
import time
from dataclasses import dataclass
from typing import Callable

from ..results import html_block


@dataclass(frozen=True)
class Scaling:
    """Median seconds of one job on each number of engines (the first count is the baseline, usually 1)."""

    engines: tuple[int, ...]
    seconds: tuple[float, ...]
    label: str = "job"
    cores: int | None = None  #: cores the engines really share (the local backend: this machine's), if known

    @property
    def speedup(self) -> tuple[float, ...]:
        base = self.seconds[0] * self.engines[0]
        return tuple(base / s for s in self.seconds)

    @property
    def efficiency(self) -> tuple[float, ...]:
        return tuple(sp / k for sp, k in zip(self.speedup, self.engines))

    def text(self) -> str:
        lines = [f"{'engines':>7}  {'seconds':>8}  {'speedup':>7}  {'efficiency':>10}"]
        for k, s, sp, ef in zip(self.engines, self.seconds, self.speedup, self.efficiency):
            lines.append(f"{k:>7}  {s:>8.3f}  {sp:>7.2f}  {ef:>10.0%}")
        return "\n".join(lines + ([self.note] if self.note else []))

    @property
    def note(self) -> str:
        """Why the speedup stops where it does, when the engines share fewer cores than there are engines."""
        if not self.cores or self.cores >= max(self.engines):
            return ""
        return (f"the engines share {self.cores} cores (every node runs on the same machine), so the speedup "
                f"cannot go much above {self.cores}: engines beyond that only take turns")

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{k}</td><td>{s:.3f}</td><td>{sp:.2f}</td><td>{ef:.0%}</td></tr>"
                       for k, s, sp, ef in zip(self.engines, self.seconds, self.speedup, self.efficiency))
        note = f"<div><i>{html.escape(self.note)}</i></div>" if self.note else ""
        return html_block(f"<b>{html.escape(self.label)}</b>{note}<table><thead><tr><th>engines</th><th>seconds</th>"
                          f"<th>speedup</th><th>efficiency</th></tr></thead><tbody>{rows}</tbody></table>")

    def figure(self):
        """The bokeh figure: measured speedup, the ideal line, and the cores the engines share."""
        from bokeh.models import ColumnDataSource, Span
        from bokeh.plotting import figure

        top = max(max(self.engines), max(self.speedup)) * 1.1
        fig = figure(title=f"Speedup: {self.label}", x_axis_label="engines", y_axis_label="speedup",
                     x_range=(0, max(self.engines) + 0.5), y_range=(0, top), height=300, width=460,
                     toolbar_location=None, name="ck-speedup")
        fig.line([0, max(self.engines)], [0, max(self.engines)], line_dash="dashed", color="gray",
                 legend_label="ideal")
        source = ColumnDataSource({"engines": list(self.engines), "speedup": list(self.speedup),
                                   "efficiency": [round(e * 100) for e in self.efficiency]}, name="ck-speedup-data")
        fig.line("engines", "speedup", source=source, line_width=2, legend_label="measured")
        fig.scatter("engines", "speedup", source=source, size=8)
        if self.cores:
            fig.add_layout(Span(location=self.cores, dimension="width", line_dash="dotted", line_color="firebrick"))
            fig.text([0.1], [self.cores], text=[f"{self.cores} cores shared"], text_font_size="9pt",
                     text_color="firebrick", y_offset=-4)
        fig.legend.location = "top_left"
        return fig

    def chart(self):
        """The figure as a widget for the notebook (BokehJS inline: no internet needed)."""
        from jupyter_bokeh import BokehModel

        from ..kernel import load_bokehjs
        load_bokehjs()
        return BokehModel(self.figure())


def measure_scaling(engines, work: Callable, *, counts: list[int] | None = None, repeat: int = 3,
                    label: str = "job", cores: int | None = None) -> Scaling:
    """Time ``work(view)`` on views of 1, 2, … engines (one per node first); medians of ``repeat`` runs.

    ``cores``: the cores the engines really share; by default the engine map's
    (:attr:`EngineMap.shared_cores`: set when every node is one machine, as in the lab).
    """
    if cores is None and getattr(engines, "map", None) is not None:
        cores = engines.map.shared_cores
    ids = engines.ids(spread=True)
    counts = counts or list(range(1, len(ids) + 1))
    if not counts or max(counts) > len(ids) or min(counts) < 1:
        from .engines import ComputeError
        raise ComputeError(f"counts must be between 1 and the {len(ids)} engines running, not {counts}",
                           field="counts")
    seconds = []
    for k in counts:
        view = engines.client[ids[:k]]
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            work(view)
            runs.append(time.perf_counter() - t0)
        seconds.append(statistics.median(runs))
    return Scaling(tuple(counts), tuple(seconds), label=label, cores=cores)


__all__ = ["Scaling", "measure_scaling"]
