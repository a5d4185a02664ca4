"""The booth page: a visitor touches the picture, the cluster draws that spot, tile by tile.

:class:`Booth` is one ipywidget (the kiosk notebook shows it, Voila serves it
with no code): the picture (:mod:`.picture`), a big race button, the count of
pictures drawn today (:mod:`.count`), who drew which tiles, the battery where
a node has one, and the live dashboard's LEDs and load below. After
``idle`` seconds without a touch it goes into attract mode (the picture zooms
slowly, every node shows the Larson scanner); the next touch brings back the
whole set for the next visitor. Reboot, shutdown, the LED buttons and "unplug a
node" appear only in instructor mode.

The page is the widget and what it shows; :mod:`.attract` owns attract mode and
:mod:`.drawing` the pictures being drawn and the race. The page's thread (the
engines, the home picture, then attract mode and the battery) starts with
:meth:`Booth.start`, which showing the page calls.
"""

from __future__ import annotations

import html
import threading
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ..dashboard import Dashboard
from ..dashboard.components import node_colours
from ..kernel import load_bokehjs
from .aim import next_region
from .attract import ATTRACT_STEP, IDLE_SECONDS, Attract
from .count import RegionCount
from .drawing import Drawing
from .fractal import HOME, Region
from .picture import PageModel, Picture
from .words import battery_text

if TYPE_CHECKING:
    from ..cluster import Cluster

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


def _html(value: str, cls: str) -> widgets.HTML:
    w = widgets.HTML(value)
    w.add_class(cls)
    return w


def _big_button(text: str, cls: str, style: str = "primary") -> widgets.Button:
    b = widgets.Button(description=text, button_style=style, layout=widgets.Layout(width="100%", height="90px"),
                       style={"font_size": "30px", "font_weight": "bold"})
    b.add_class(cls)
    return b


class Booth(widgets.VBox):
    """The visitors' page for a cluster; ``engines`` (running) or None to start one engine per node here.

    ``instructor=True`` adds the power, LED and unplug buttons. ``idle``: seconds
    without a touch before attract mode (:attr:`attract`). ``count``: where the day's count is kept
    (default: a file on the primary, :class:`~.count.RegionCount`). ``page=False``:
    draw without waiting for a page to show the picture (tests, benchmarks); by
    default nothing is drawn before the page has drawn the figure. Nothing runs until
    :meth:`start` (which showing the page calls).
    """

    def __init__(self, cluster: Cluster, *, engines=None, instructor: bool = False, idle: float = IDLE_SECONDS,
                 count: RegionCount | None = None, interval: float = 0.5, page: bool = True):
        self.cluster = cluster
        self.instructor = instructor
        self.names = [n.name for n in cluster]
        self.colours = node_colours(self.names)
        self.count = count or RegionCount(cluster.primary)
        self.engines = engines
        self._own_engines = engines is None
        self.home_shot = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.attract = Attract(self, idle=idle)
        self.drawing = Drawing(self)

        self.picture = Picture(HOME, colours=self.colours, on_touch=self.touch)
        self.chart = PageModel(self.picture.root)
        self.chart.add_class("ck-booth-picture")
        self.picture.listen()
        if not page:
            self.picture.drawn.set()
        load_bokehjs()
        self.title = widgets.HTML("<h1>Touch the picture: the cluster draws that spot for you!</h1>")
        self.status = _html("Waking up the cluster…", "ck-booth-status")
        self.counter = _html("", "ck-booth-count")
        self.legend = _html("", "ck-booth-legend")
        self.race_button = _big_button("Race: 1 against all", "ck-booth-race", "success")
        self.race_button.on_click(lambda _b: self.touch_race())
        self.home_button = _big_button("Start again", "ck-booth-home", "info")
        self.home_button.on_click(lambda _b: self.touch_home())
        self.race_result = _html("", "ck-booth-race-result")
        self.battery = _html("", "ck-booth-battery")
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
        self.show_count()
        self.show_legend({})

    # ------------------------------------------------------------ start
    def start(self) -> Booth:
        """Start the page's thread (once; again does nothing): engines unless given, the home picture, then
        attract mode and the battery. Showing the page starts it; tests and benchmarks call it."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True, name="clusterkit-booth")
            self._thread.start()
        return self

    def _repr_mimebundle_(self, include=None, exclude=None):
        self.start()
        return super()._repr_mimebundle_(include=include, exclude=exclude)

    def _loop(self) -> None:
        self._start()
        while not self._stop.wait(ATTRACT_STEP):
            try:
                self._show_battery()
                self.attract.tick()
            except Exception as e:
                self.status.value = f"booth: {html.escape(repr(e))}"

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
            with self.drawing.busy:
                report = self.drawing.render(HOME, counted=False)
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
    def touch(self, x: float, y: float) -> threading.Thread | None:
        """A touch on the picture at ``(x, y)``: draw the region around it (in a thread, returned)."""
        if self.attract.touched():
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
        picture is being drawn); its report is then the last of ``drawing.reports``. ``aimed``: the picture is not
        centred where the visitor touched (the page says why)."""
        return self.drawing.job(lambda: self.drawing.render(region, counted=counted, nodes=nodes, aimed=aimed))

    def touch_race(self) -> threading.Thread | None:
        """The race button: the picture on one node, then on all of them."""
        if self.attract.touched() or not self.ready:
            return None
        return self.drawing.job(self.drawing.race)

    def touch_home(self) -> None:
        """The whole set again (a new visitor)."""
        if self.attract.touched() or not self.ready:
            return
        if self.drawing.busy.acquire(blocking=False):
            try:
                self.home()
            finally:
                self.drawing.busy.release()

    def home(self) -> None:
        """Show the home picture again, with its legend (the caller makes sure nothing is being drawn)."""
        self.picture.restore(self.home_shot)
        self.race_result.value = ""
        self.show_legend(self.picture.shown)
        self.status.value = "Touch any spot of the picture to zoom in."

    # ------------------------------------------------------------ what the side panel says
    def show_count(self, value: int | None = None) -> None:
        """The pictures drawn today: ``value``, else read from the primary."""
        try:
            value = self.count.value() if value is None else value
            self.counter.value = f"Pictures drawn today: <span class='ck-count-value'>{value}</span>"
        except Exception as e:  # a primary that cannot be reached must not take the page down
            self.counter.value = f"Pictures drawn today: ? ({html.escape(str(e))})"

    def show_legend(self, shown: dict[str, int], *, lost=()) -> None:
        """The tiles each node drew (``shown``), nodes that dropped out (``lost``) struck through."""
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
        if self._thread is not None:
            self._thread.join(10)
        if self._own_engines and self.engines is not None:
            self.engines.stop()
        self.dashboard.close(keep_picture=False)
        self.chart.close()
        super().close()


__all__ = ["Booth", "IDLE_SECONDS"]
