"""The booth's drawings: one picture at a time on the engines, in a thread of its own, and the race.

A drawing says on the page how it goes (the status line, the tiles each node
drew, who dropped out), lights each node's LEDs in its colour while it holds a
tile, and counts the pictures finished for visitors. The race draws the same
region on one node, then on all, and says the result in words.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Callable

from .fractal import Region
from .scheduler import Render, RenderReport
from .words import race_words

#: Renders whose reports are kept (:attr:`Drawing.reports`), the latest last.
KEEP_REPORTS = 50
#: Said when a touch far from the set's edge was drawn at the nearest edge instead (:mod:`.aim`).
AIMED = "Every spot there looks the same, so the computers went to the nearest edge of the set. "


class Drawing:
    """What the booth draws: :attr:`busy` while a picture is drawn, :attr:`reports` of the last renders."""

    def __init__(self, booth):
        self.booth = booth
        self.busy = threading.Lock()
        self.reports: list[RenderReport] = []
        self._counted: int | None = None    # the count a job's picture reached, shown once the job ends

    def job(self, work: Callable[[], object]) -> threading.Thread | None:
        """``work`` in a thread (returned), unless a picture is being drawn (then None, and the page says so)."""
        booth = self.booth
        if not self.busy.acquire(blocking=False):
            booth.status.value = "Still drawing: watch the tiles fill in!"
            return None

        def run() -> None:
            try:
                work()
            except Exception as e:
                booth.status.value = f"Something went wrong: {html.escape(str(e))}"
            finally:
                booth.attract.last_touch = time.monotonic()
                counted, self._counted = self._counted, None
                self.busy.release()
            if counted is not None:
                # The count last, once the booth takes touches again: a visitor (or a test) who sees it go up
                # may touch at once, and is not told "still drawing" (nor ignored) by a drawing that has ended.
                booth.show_count(counted)

        t = threading.Thread(target=run, daemon=True, name="clusterkit-booth-render")
        t.start()
        return t

    def render(self, region: Region, *, counted: bool, nodes: list[str] | None = None,
               aimed: bool = False) -> RenderReport:
        """Draw ``region`` on the engines of ``nodes`` (all by default), saying on the page how it goes.
        ``counted``: a finished picture adds one to the pictures drawn today, shown when its :meth:`job` ends."""
        booth = self.booth
        lost_notes: list[str] = []

        def lost(node: str, moved: int) -> None:
            if node not in lost_notes:
                lost_notes.append(node)
            booth.status.value = (f"<b>{html.escape(', '.join(lost_notes))} dropped out!</b> Its tiles go to the "
                                  "other computers.")
            booth.show_legend(booth.picture.shown, lost=lost_notes)

        render = Render(booth.engines, region, nodes=nodes, on_tile=self.tile, on_busy=self.lights, on_lost=lost)
        who = "one computer" if len(render.nodes) == 1 else f"{len(render.nodes)} computers"
        booth.picture.show(region)
        booth.show_legend({}, lost=lost_notes)
        booth.status.value = f"Drawing {len(render.tiles)} tiles on {who}…"
        report = render.run()
        booth.picture.sync()
        self.reports = self.reports[-(KEEP_REPORTS - 1):] + [report]
        if report.lost:
            booth.engines.refresh()
        if report.complete:
            # The words now, the count when the job ends: once a visitor (or a test) sees the count go up, the
            # words beside it already say what was drawn and why there.
            booth.status.value = _done_words(report, who, aimed=aimed)
            if counted:
                self._counted = booth.count.add()
        else:
            booth.status.value = f"The picture could not be finished: {html.escape(report.error or 'stopped')}"
        booth.show_legend(booth.picture.shown, lost=report.lost)
        return report

    def race(self) -> tuple[RenderReport, RenderReport]:
        """The same region on one node, then on all; the result in words."""
        booth = self.booth
        engines = booth.engines
        region = booth.picture.region
        first = next(n for n, ids, _ in engines.map.rows() if ids and set(ids) & set(engines.client.ids))
        booth.race_result.value = "<b>Race!</b> First one computer alone…"
        alone = self.render(region, counted=False, nodes=[first])
        booth.race_result.value = "<b>Race!</b> Now all of them together…"
        together = self.render(region, counted=True)
        if alone.complete and together.complete:
            booth.race_result.value = html.escape(race_words(alone.seconds, together.seconds,
                                                             nodes=len(together.nodes)))
        return alone, together

    def tile(self, tile, node: str, pixels) -> None:
        """A tile came back from ``node``: on the picture, and counted in the legend."""
        self.booth.picture.add(tile, node, pixels)
        self.booth.show_legend(self.booth.picture.shown)

    def lights(self, node: str, busy: bool) -> None:
        """A node's LEDs in its colour while it holds a tile, the CPU bar again when it holds none."""
        dashboard = self.booth.dashboard
        if busy:
            dashboard.fill(self.booth.colours[node], nodes=[node])
        else:
            dashboard.set_pattern("cpu", nodes=[node])


def _done_words(report: RenderReport, who: str, *, aimed: bool) -> str:
    done = (AIMED if aimed else "") + f"Done in {report.seconds:.1f} seconds on {who}."
    if report.lost:
        done += (f" {', '.join(report.lost)} dropped out on the way; the others took over its "
                 f"{report.moved} tile{'s' if report.moved != 1 else ''}.")
    return done + " Touch near the edge of the dark shape to zoom further!"


__all__ = ["Drawing", "KEEP_REPORTS"]
