"""The booth's picture on the page: tiles as they arrive, each outlined in its node's colour, and touches.

A bokeh figure with two named sources: ``booth_tiles`` (the tiles' pixels, drawn
with ``image_rgba``) and ``booth_outlines`` (one rectangle per tile in the colour
of the node that computed it). Tiles are streamed as they arrive; :meth:`Picture.sync`
sends the whole picture again at the end of a render. A touch or click calls
``on_touch(x, y)`` with the point on the complex plane.

Three things about jupyter_bokeh 4.1 shape this module. It sends each change as
several comm messages (header, content, buffers) that the page puts back
together: parts sent from two threads at once interleave, so every change goes
under one lock. A part sent before the page has drawn the figure is lost, so
nothing is sent before the page says it has drawn (bokeh's ``DocumentReady``,
:attr:`Picture.drawn`). And the page sends every change it applied back to the
kernel, where a streamed row is then streamed a second time (the picture had 33
outlines for 24 tiles in the browser test): the page's widget is a
:class:`~clusterkit.dashboard.panel.PageModel`, which takes only the page's events
(a touch, ``DocumentReady``), never those echoes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import threading

from bokeh.events import DocumentReady, DoubleTap, Tap
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure

from ..dashboard.panel import PageModel
from .fractal import HEIGHT, WIDTH, Region, Tile

TILE_COLUMNS = ("image", "x", "y", "dw", "dh", "node")
OUTLINE_COLUMNS = ("x", "y", "w", "h", "colour", "node")


def _empty(columns) -> dict:
    return {c: [] for c in columns}


def _replace(source: ColumnDataSource, data: dict, columns) -> None:
    """Send ``data`` whole, even when it equals what the source holds (bokeh sends nothing for an equal value,
    while the page may hold something else: rows streamed before it drew are lost, or arrive twice, in Voila)."""
    source.data = _empty(columns)
    source.data = {c: list(data[c]) for c in columns}


class Picture:
    """The figure (``root``), its two sources, the region it shows and what a touch does."""

    def __init__(self, region: Region, *, colours: dict[str, str], on_touch: Callable[[float, float], None]):
        self.region = region
        self.colours = colours
        self.on_touch = on_touch
        self.tiles = ColumnDataSource(_empty(TILE_COLUMNS), name="booth_tiles")
        self.outlines = ColumnDataSource(_empty(OUTLINE_COLUMNS), name="booth_outlines")
        fig = figure(width=WIDTH, height=HEIGHT, sizing_mode="scale_both", toolbar_location=None, tools="tap",
                     x_range=Range1d(region.x0, region.x1), y_range=Range1d(region.y0, region.y1),
                     min_border=0, outline_line_color=None, background_fill_color="#202020", name="booth_picture")
        fig.axis.visible = False
        fig.grid.visible = False
        drawn = [fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self.tiles),
                 fig.rect(x="x", y="y", width="w", height="h", source=self.outlines, fill_alpha=0.0,
                          line_color="colour", line_width=3)]
        for r in drawn:   # a tap selects nothing: no tile dims or lights up
            r.selection_glyph = r.nonselection_glyph = r.glyph
        for kind in (Tap, DoubleTap):  # bokeh makes a second tap soon after the first a double tap, not a tap
            fig.on_event(kind, lambda event: self.on_touch(event.x, event.y))
        self.root = fig
        self.lock = threading.RLock()
        #: Set once the page has drawn the figure (never, with no page: set it yourself).
        self.drawn = threading.Event()

    def listen(self) -> None:
        """Hear the page say it has drawn the figure (call once the figure is in a BokehModel); the page then
        gets the whole picture."""
        self.root.document.on_event(DocumentReady, lambda _event: self._page_drawn())

    def _page_drawn(self) -> None:
        self.drawn.set()
        self.sync()

    # ------------------------------------------------------------ what is shown
    def show(self, region: Region) -> None:
        """Start a new picture of ``region``: the view moves there and the tiles are cleared."""
        with self.lock:
            self.region = region
            self.tiles.data = _empty(TILE_COLUMNS)
            self.outlines.data = _empty(OUTLINE_COLUMNS)
            self.view(region)

    def view(self, region: Region) -> None:
        """Move the view (the picture zooms, its tiles stay): the idle zoom."""
        with self.lock:
            r = self.root
            r.x_range.start, r.x_range.end = region.x0, region.x1
            r.y_range.start, r.y_range.end = region.y0, region.y1

    def add(self, tile: Tile, node: str, pixels: np.ndarray) -> None:
        """One tile arrived from ``node``: draw it, outlined in the node's colour."""
        w, h = tile.x1 - tile.x0, tile.y1 - tile.y0
        with self.lock:
            self.tiles.stream({"image": [pixels], "x": [tile.x0], "y": [tile.y0], "dw": [w], "dh": [h],
                               "node": [node]})
            self.outlines.stream({"x": [tile.x0 + w / 2], "y": [tile.y0 + h / 2], "w": [w], "h": [h],
                                  "colour": [self.colours.get(node, "#ffffff")], "node": [node]})

    def snapshot(self) -> tuple[Region, dict, dict]:
        """What is shown now, to show again later (the home picture)."""
        with self.lock:
            return (self.region, {c: list(self.tiles.data[c]) for c in TILE_COLUMNS},
                    {c: list(self.outlines.data[c]) for c in OUTLINE_COLUMNS})

    def restore(self, shot: tuple[Region, dict, dict]) -> None:
        region, tiles, outlines = shot
        with self.lock:
            self.region = region
            _replace(self.tiles, tiles, TILE_COLUMNS)
            _replace(self.outlines, outlines, OUTLINE_COLUMNS)
            self.view(region)

    def sync(self) -> None:
        """Send the whole picture again, so the page holds exactly every tile."""
        with self.lock:
            _replace(self.tiles, self.tiles.data, TILE_COLUMNS)
            _replace(self.outlines, self.outlines.data, OUTLINE_COLUMNS)

    @property
    def shown(self) -> dict[str, int]:
        """Tiles on the picture by node."""
        out: dict[str, int] = {}
        for node in self.outlines.data["node"]:
            out[node] = out.get(node, 0) + 1
        return out


__all__ = ["Picture", "PageModel"]
