"""The booth's picture on the page: tiles as they arrive, each outlined in its node's colour, and touches.

A bokeh figure with two named sources: ``booth_tiles`` (the tiles' pixels, drawn
with ``image_rgba``) and ``booth_outlines`` (one rectangle per tile in the colour
of the node that computed it). Tiles are streamed as they arrive; :meth:`Picture.sync`
sends the whole picture again at the end of a render, for a page (Voila) that
dropped rows streamed before it had drawn. A touch or click calls ``on_touch(x, y)``
with the point on the complex plane.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, Range1d
from bokeh.plotting import figure

from .fractal import HEIGHT, WIDTH, Region, Tile

TILE_COLUMNS = ("image", "x", "y", "dw", "dh", "node")
OUTLINE_COLUMNS = ("x", "y", "w", "h", "colour", "node")


def _empty(columns) -> dict:
    return {c: [] for c in columns}


class Picture:
    """The figure (``root``), its two sources, the region it shows and what a touch does."""

    def __init__(self, region: Region, *, colours: dict[str, str], on_touch: Callable[[float, float], None]):
        self.region = region
        self.colours = colours
        self.on_touch = on_touch
        self.tiles = ColumnDataSource(_empty(TILE_COLUMNS), name="booth_tiles")
        self.outlines = ColumnDataSource(_empty(OUTLINE_COLUMNS), name="booth_outlines")
        fig = figure(width=WIDTH, height=HEIGHT, toolbar_location=None, tools="tap",
                     x_range=Range1d(region.x0, region.x1), y_range=Range1d(region.y0, region.y1),
                     min_border=0, outline_line_color=None, background_fill_color="#202020", name="booth_picture")
        fig.axis.visible = False
        fig.grid.visible = False
        fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self.tiles)
        fig.rect(x="x", y="y", width="w", height="h", source=self.outlines, fill_alpha=0.0, line_color="colour",
                 line_width=3)
        fig.on_event(Tap, lambda event: self.on_touch(event.x, event.y))
        self.root = fig

    # ------------------------------------------------------------ what is shown
    def show(self, region: Region) -> None:
        """Start a new picture of ``region``: the view moves there and the tiles are cleared."""
        self.region = region
        self.tiles.data = _empty(TILE_COLUMNS)
        self.outlines.data = _empty(OUTLINE_COLUMNS)
        self.view(region)

    def view(self, region: Region) -> None:
        """Move the view (the picture zooms, its tiles stay): the idle zoom."""
        r = self.root
        r.x_range.start, r.x_range.end = region.x0, region.x1
        r.y_range.start, r.y_range.end = region.y0, region.y1

    def add(self, tile: Tile, node: str, pixels: np.ndarray) -> None:
        """One tile arrived from ``node``: draw it, outlined in the node's colour."""
        w, h = tile.x1 - tile.x0, tile.y1 - tile.y0
        self.tiles.stream({"image": [pixels], "x": [tile.x0], "y": [tile.y0], "dw": [w], "dh": [h],
                           "node": [node]})
        self.outlines.stream({"x": [tile.x0 + w / 2], "y": [tile.y0 + h / 2], "w": [w], "h": [h],
                              "colour": [self.colours.get(node, "#ffffff")], "node": [node]})

    def snapshot(self) -> tuple[Region, dict, dict]:
        """What is shown now, to show again later (the home picture)."""
        return self.region, dict(self.tiles.data), dict(self.outlines.data)

    def restore(self, shot: tuple[Region, dict, dict]) -> None:
        region, tiles, outlines = shot
        self.region = region
        self.tiles.data = dict(tiles)
        self.outlines.data = dict(outlines)
        self.view(region)

    def sync(self) -> None:
        """Send the whole picture again (a page that missed streamed rows gets every tile)."""
        self.tiles.data = dict(self.tiles.data)
        self.outlines.data = dict(self.outlines.data)

    @property
    def shown(self) -> dict[str, int]:
        """Tiles on the picture by node."""
        out: dict[str, int] = {}
        for node in self.outlines.data["node"]:
            out[node] = out.get(node, 0) + 1
        return out


__all__ = ["Picture"]
