"""The booth page: a visitor touches the picture, the cluster draws that spot, tile by tile.

:class:`Booth` is one ipywidget (the kiosk notebook shows it, Voila serves it
with no code): the picture (:mod:`.picture`), a big race button, the count of
pictures drawn today (:mod:`.count`), who drew which tiles, the battery where
a node has one, and the live dashboard's LEDs and load below. After
``idle`` seconds without a touch it goes into attract mode (the picture zooms
slowly, every node shows the Larson scanner); the next touch brings back the
whole set for the next visitor. Reboot, shutdown, the LED buttons and "unplug a
node" appear only in instructor mode.
"""

from __future__ import annotations

import html
import threading
import time

import ipywidgets as widgets

from ..dashboard import Dashboard
from ..dashboard.components import node_colours
from ..kernel import load_bokehjs
from .aim import next_region
from .count import RegionCount
from .fractal import ATTRACT_POINT, HOME, Region
from .picture import PageModel, Picture
from .scheduler import Render, RenderReport
from .words import battery_text, race_words

#: Seconds without a touch before attract mode.
IDLE_SECONDS = 60.0
#: Each step of the idle zoom narrows the view by this factor; a step every ATTRACT_STEP seconds.
ATTRACT_ZOOM, ATTRACT_STEP = 1.01, 0.25
#: Renders whose reports are kept (:attr:`Booth.reports`), the latest last.
KEEP_REPORTS = 50
#: The idle zoom starts over from the whole set once it is this many times closer.
ATTRACT_DEPTH = 6.0
#: Said when a touch far from the set's edge was drawn at the nearest edge instead (:mod:`.aim`).
AIMED = "Every spot there looks the same, so the computers went to the nearest edge of the set. "

#: The side panel's width; the picture takes most of the screen's height and the width left beside the panel.
SIDE_WIDTH = 560
STYLE = f"""<style>
.ck-booth {{ font-size: 22px; }}
.ck-booth h1 {{ font-size: 44px; margin: 4px 0 8px 0; }}
.ck-booth .ck-booth-picture {{ flex: none; width: min(calc(78vh * 1.5), calc(100vw - {SIDE_WIDTH + 64}px));
  height: min(78vh, calc((100vw - {SIDE_WIDTH + 64}px) / 1.5)); }}
.ck-booth .ck-booth-count {{ font-size: 34px; font-weight: bold; white-space: nowrap; }}
.ck-booth .ck-booth-status {{ font-size: 26px; min-height: 2.4em; }}
.ck-booth .ck-booth-race-result {{ font-size: 26px; }}
.ck-booth .ck-booth-attract {{ font-size: 40px; color: #d62728; font-weight: bold; }}
.ck-booth .ck-chip {{ display: inline-block; padding: 6px 14px; margin: 4px; border-radius: 10px; color: white;
  font-size: 24px; font-weight: bold; }}
.ck-booth .ck-chip.ck-lost {{ text-decoration: line-through; opacity: 0.4; }}
</style>"""


def _big_button(text: str, cls: str, style: str = "primary") -> widgets.Button:
    b = widgets.Button(description=text, button_style=style, layout=widgets.Layout(width="100%", height="90px"),
                       style={"font_size": "30px", "font_weight": "bold"})
    b.add_class(cls)
    return b


class Booth(widgets.VBox):
    """The visitors' page for a cluster; ``engines`` (running) or None to start one engine per node here.

    ``instructor=True`` adds the power, LED and unplug buttons. ``idle``: seconds
    without a touch before attract mode. ``count``: where the day's count is kept
    (default: a file on the primary, :class:`~.count.RegionCount`). ``page=False``:
    draw without waiting for a page to show the picture (tests, benchmarks); by
    default nothing is drawn before the page has drawn the figure.
    """

    def __init__(self, cluster, *, engines=None, instructor: bool = False, idle: float = IDLE_SECONDS,
                 count: RegionCount | None = None, interval: float = 0.5, page: bool = True):
        self.cluster = cluster
        self.instructor = instructor
        self.idle = idle
        self.names = [n.name for n in cluster]
        self.colours = node_colours(self.names)
        self.count = count or RegionCount(cluster.primary)
        self.engines = engines
        self._own_engines = engines is None
        self.busy = threading.Lock()
        self.attract = False
        self.last_touch = time.monotonic()
        self.reports: list[RenderReport] = []
        self.home_shot = None
        self._stop = threading.Event()
        self._attract_lock = threading.Lock()   # a touch and the idle thread never change attract mode at once

        self.picture = Picture(HOME, colours=self.colours, on_touch=self.touch)
        self.chart = PageModel(self.picture.root)
        self.chart.add_class("ck-booth-picture")
        self.picture.listen()
        if not page:
            self.picture.drawn.set()
        load_bokehjs()
        self.title = widgets.HTML("<h1>Touch the picture: the cluster draws that spot for you!</h1>")
        self.status = widgets.HTML("Waking up the cluster…")
        self.status.add_class("ck-booth-status")
        self.counter = widgets.HTML()
        self.counter.add_class("ck-booth-count")
        self.legend = widgets.HTML()
        self.legend.add_class("ck-booth-legend")
        self.race_button = _big_button("Race: 1 against all", "ck-booth-race", "success")
        self.race_button.on_click(lambda _b: self.touch_race())
        self.home_button = _big_button("Start again", "ck-booth-home", "info")
        self.home_button.on_click(lambda _b: self.touch_home())
        self.race_result = widgets.HTML()
        self.race_result.add_class("ck-booth-race-result")
        self.battery = widgets.HTML()
        self.battery.add_class("ck-booth-battery")
        self.attract_banner = widgets.HTML("Touch the picture to explore it!", layout=widgets.Layout(display="none"))
        self.attract_banner.add_class("ck-booth-attract")
        self.dashboard = Dashboard(cluster, power=instructor, controls=instructor, resync=5.0, interval=interval,
                                   title=f"{len(self.names)} computers, live: their load and their lights")
        side = widgets.VBox([self.counter, self.race_button, self.home_button, self.race_result, self.legend,
                             self.battery], layout=widgets.Layout(width=f"{SIDE_WIDTH}px", padding="0 0 0 16px"))
        parts = [widgets.HTML(STYLE), self.title, self.attract_banner, widgets.HBox([self.chart, side]),
                 self.status]
        if instructor:
            parts.append(self._instructor_controls())
        super().__init__(parts + [self.dashboard])
        self.add_class("ck-booth")
        self._show_count()
        self._show_legend({})
        self._thread = threading.Thread(target=self._loop, daemon=True, name="clusterkit-booth")
        self._thread.start()

    # ------------------------------------------------------------ start
    def _start(self) -> None:
        """Engines (unless given), then the whole set as the home picture."""
        try:
            if self.engines is None:
                engines = self.cluster.engines(per_node=1)
                if self._stop.is_set():      # closed while they started: they are ours to stop
                    engines.stop()
                    return
                self.engines = engines
            while not self.picture.drawn.wait(0.5):
                if self._stop.is_set():
                    return
            with self.busy:
                report = self._render(HOME, counted=False)
            self.home_shot = self.picture.snapshot()
            self.status.value = ("Touch any spot of the picture: the computers draw it bigger, "
                                 "each tile outlined in the colour of the computer that drew it. "
                                 "The patterns are at the edge of the dark shape."
                                 if report.complete else self.status.value)
        except Exception as e:  # the page says so rather than stay silent
            self.status.value = f"The cluster could not start: {html.escape(str(e))}"

    @property
    def ready(self) -> bool:
        return self.home_shot is not None

    # ------------------------------------------------------------ touches
    def _woken(self) -> bool:
        """Note a touch; True when it only woke the page from attract mode (the touch then does nothing else)."""
        self.last_touch = time.monotonic()
        with self._attract_lock:
            if not self.attract:
                return False
            self.leave_attract()
            return True

    def touch(self, x: float, y: float) -> threading.Thread | None:
        """A touch on the picture at ``(x, y)``: draw the region around it (in a thread, returned)."""
        if self._woken():
            return None
        if not self.ready:
            self.status.value = "Just a moment: the cluster is still waking up."
            return None
        region = self.picture.region
        if not region.contains(x, y):
            return None
        new = next_region(region, x, y)   # toward the set's edge when the spot touched is one flat colour
        return self.draw(new, aimed=(new.cx, new.cy) != (x, y))

    def draw(self, region: Region, *, nodes: list[str] | None = None, counted: bool = True, aimed: bool = False
             ) -> threading.Thread | None:
        """Draw ``region`` on the engines of ``nodes`` (all by default) in a thread (returned; None while another
        picture is being drawn); its report is then the last of :attr:`reports`. ``aimed``: the picture is not
        centred where the visitor touched (the page says why)."""
        return self._job(lambda: self._render(region, counted=counted, nodes=nodes, aimed=aimed))

    def touch_race(self) -> threading.Thread | None:
        """The race button: the picture on one node, then on all of them."""
        if self._woken() or not self.ready:
            return None
        return self._job(self.race)

    def touch_home(self) -> None:
        """The whole set again (a new visitor)."""
        if self._woken() or not self.ready:
            return
        if self.busy.acquire(blocking=False):
            try:
                self._home()
            finally:
                self.busy.release()

    def _home(self) -> None:
        self.picture.restore(self.home_shot)
        self.race_result.value = ""
        self._show_legend(self.picture.shown)
        self.status.value = "Touch any spot of the picture to zoom in."

    def _job(self, work) -> threading.Thread | None:
        if not self.busy.acquire(blocking=False):
            self.status.value = "Still drawing: watch the tiles fill in!"
            return None

        def run() -> None:
            try:
                work()
            except Exception as e:
                self.status.value = f"Something went wrong: {html.escape(str(e))}"
            finally:
                self.last_touch = time.monotonic()
                self.busy.release()

        t = threading.Thread(target=run, daemon=True, name="clusterkit-booth-render")
        t.start()
        return t

    # ------------------------------------------------------------ rendering
    def _render(self, region: Region, *, counted: bool, nodes: list[str] | None = None,
                aimed: bool = False) -> RenderReport:
        lost_notes: list[str] = []

        def lost(node: str, moved: int) -> None:
            if node not in lost_notes:
                lost_notes.append(node)
            self.status.value = (f"<b>{html.escape(', '.join(lost_notes))} dropped out!</b> Its tiles go to the "
                                 "other computers.")
            self._show_legend(self.picture.shown, lost=lost_notes)

        render = Render(self.engines, region, nodes=nodes, on_tile=self._tile, on_busy=self._busy, on_lost=lost)
        who = "one computer" if len(render.nodes) == 1 else f"{len(render.nodes)} computers"
        self.picture.show(region)
        self._show_legend({}, lost=lost_notes)
        self.status.value = f"Drawing {len(render.tiles)} tiles on {who}…"
        report = render.run()
        self.picture.sync()
        self.reports = self.reports[-(KEEP_REPORTS - 1):] + [report]
        if report.lost:
            self.engines.refresh()
        if report.complete:
            if counted:
                self._show_count(self.count.add())
            done = (AIMED if aimed else "") + f"Done in {report.seconds:.1f} seconds on {who}."
            if report.lost:
                done += (f" {', '.join(report.lost)} dropped out on the way; the others took over its "
                         f"{report.moved} tile{'s' if report.moved != 1 else ''}.")
            self.status.value = done + " Touch near the edge of the dark shape to zoom further!"
        else:
            self.status.value = f"The picture could not be finished: {html.escape(report.error or 'stopped')}"
        self._show_legend(self.picture.shown, lost=report.lost)
        return report

    def race(self) -> tuple[RenderReport, RenderReport]:
        """The same region on one node, then on all; the result in words."""
        region = self.picture.region
        first = next(n for n, ids, _ in self.engines.map.rows() if ids and set(ids) & set(self.engines.client.ids))
        self.race_result.value = "<b>Race!</b> First one computer alone…"
        alone = self._render(region, counted=False, nodes=[first])
        self.race_result.value = "<b>Race!</b> Now all of them together…"
        together = self._render(region, counted=True)
        if alone.complete and together.complete:
            self.race_result.value = html.escape(race_words(alone.seconds, together.seconds,
                                                            nodes=len(together.nodes)))
        return alone, together

    def _tile(self, tile, node: str, pixels) -> None:
        self.picture.add(tile, node, pixels)
        self._show_legend(self.picture.shown)

    def _busy(self, node: str, busy: bool) -> None:
        if busy:
            self.dashboard.fill(self.colours[node], nodes=[node])
        else:
            self.dashboard.set_pattern("cpu", nodes=[node])

    # ------------------------------------------------------------ what the side panel says
    def _show_count(self, value: int | None = None) -> None:
        try:
            value = self.count.value() if value is None else value
            self.counter.value = f"Pictures drawn today: <span class='ck-count-value'>{value}</span>"
        except Exception as e:  # a primary that cannot be reached must not take the page down
            self.counter.value = f"Pictures drawn today: ? ({html.escape(str(e))})"

    def _show_legend(self, shown: dict[str, int], *, lost=()) -> None:
        chips = "".join(
            f"<span class='ck-chip{' ck-lost' if n in lost else ''}' data-node='{html.escape(n)}' "
            f"style='background:{c}'>{html.escape(n)}: {shown.get(n, 0)}</span>"
            for n, c in self.colours.items())
        self.legend.value = f"<div>Tiles drawn by each computer:</div><div>{chips}</div>"

    def _show_battery(self) -> None:
        lines = [battery_text(n, st.sample.battery) for n, st in self.dashboard.states().items()
                 if st.alive and st.sample is not None and st.sample.battery]
        value = "<br>".join(html.escape(x) for x in lines if x)
        if self.battery.value != value:
            self.battery.value = value

    # ------------------------------------------------------------ attract mode
    def enter_attract(self) -> None:
        """The whole set, slowly zooming, and the Larson scanner on every node, until the next touch."""
        if self.ready:
            self._home()
        self._zoom = 1.0
        self.dashboard.set_pattern("larson")
        self.attract_banner.layout.display = "block"
        self.add_class("ck-attract")
        self.attract = True

    def leave_attract(self) -> None:
        self.attract = False
        self.remove_class("ck-attract")
        self.attract_banner.layout.display = "none"
        self.dashboard.set_pattern("cpu")
        if self.ready:
            self._home()

    def _attract_step(self) -> None:
        self._zoom *= ATTRACT_ZOOM
        if self._zoom > ATTRACT_DEPTH:
            self._zoom = 1.0
        base = self.home_shot[0] if self.home_shot else HOME
        f = 1.0 - 1.0 / self._zoom   # the centre glides from the picture's centre to the point
        cx = base.cx + (ATTRACT_POINT[0] - base.cx) * f
        cy = base.cy + (ATTRACT_POINT[1] - base.cy) * f
        self.picture.view(Region(cx, cy, base.width / self._zoom))

    def _loop(self) -> None:
        self._start()
        while not self._stop.wait(ATTRACT_STEP):
            try:
                self._show_battery()
                with self._attract_lock:
                    if self.attract:
                        self._attract_step()
                    elif (time.monotonic() - self.last_touch > self.idle and self.ready
                          and not self.busy.locked()):
                        self.enter_attract()
            except Exception as e:
                self.status.value = f"booth: {html.escape(repr(e))}"

    # ------------------------------------------------------------ instructor
    def _instructor_controls(self) -> widgets.Widget:
        self.unplug_picker = widgets.Dropdown(options=self.names, description="Node")
        self.unplug_button = widgets.Button(description="Unplug its engines", button_style="warning",
                                            tooltip="kill this node's engines, as if it lost power mid-render")
        self.unplug_button.add_class("ck-booth-unplug")
        self.unplug_button.on_click(lambda _b: self.unplug(self.unplug_picker.value))
        return widgets.HBox([widgets.HTML("<b>Instructor:</b>"), self.unplug_picker, self.unplug_button])

    def unplug(self, node: str) -> list[int]:
        """Kill a node's engines (a node dropping out, for the demo); their tiles go to the others."""
        return self.engines.kill(node)

    # ------------------------------------------------------------ lifetime
    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        if self._own_engines and self.engines is not None:
            self.engines.stop()
        self.dashboard.close(keep_picture=False)
        self.chart.close()
        super().close()


__all__ = ["Booth", "IDLE_SECONDS"]
