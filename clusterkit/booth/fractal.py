"""The booth's picture: the Mandelbrot set, a region of it, and the tiles it is cut into.

:func:`render_tile` runs on an engine (plain numpy, importable there as
``clusterkit.booth.fractal.render_tile``) and returns the tile's pixels as
RGBA packed in ``uint32``, the form bokeh's ``image_rgba`` draws. Everything
else here is arithmetic on regions, tested without a cluster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .palette import colour

#: The picture's size in pixels, and how it is cut: COLS x ROWS tiles of TILE x TILE pixels.
COLS, ROWS, TILE = 6, 4, 128
WIDTH, HEIGHT = COLS * TILE, ROWS * TILE
#: How much one touch zooms in.
ZOOM = 4.0
#: Iterations at the whole set; deeper regions get more (:func:`iterations`).
BASE_ITERATIONS = 120
MAX_ITERATIONS = 2000
#: Narrowest region (double precision ends near here).
MIN_WIDTH = 1e-12


@dataclass(frozen=True)
class Region:
    """A window on the complex plane: its centre and width (the height follows the picture's shape)."""

    cx: float
    cy: float
    width: float

    @property
    def height(self) -> float:
        return self.width * HEIGHT / WIDTH

    #: The view's edges.
    x0 = property(lambda self: self.cx - self.width / 2)
    x1 = property(lambda self: self.cx + self.width / 2)
    y0 = property(lambda self: self.cy - self.height / 2)
    y1 = property(lambda self: self.cy + self.height / 2)

    @property
    def magnification(self) -> float:
        """How many times narrower than the whole set."""
        return HOME.width / self.width

    def zoom(self, x: float, y: float, factor: float = ZOOM) -> "Region":
        """The region centred on the touched point ``(x, y)``, ``factor`` times narrower (never below MIN_WIDTH)."""
        return Region(float(x), float(y), max(self.width / factor, MIN_WIDTH))

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


#: The whole set, the picture a new visitor sees.
HOME = Region(-0.6, 0.0, 3.6)
#: Where the idle picture slowly zooms in (the "seahorse valley").
ATTRACT_POINT = (-0.7436447860, 0.1318252536)


@dataclass(frozen=True)
class Tile:
    """One piece of a region's picture: its place in the grid and on the plane, and its size in pixels."""

    index: int
    col: int
    row: int
    x0: float
    x1: float
    y0: float
    y1: float
    width: int = TILE
    height: int = TILE

    @property
    def args(self) -> tuple:
        """What :func:`render_tile` takes, after the iteration count."""
        return (self.x0, self.x1, self.y0, self.y1, self.width, self.height)


def tiles(region: Region, *, cols: int = COLS, rows: int = ROWS, size: int = TILE) -> list[Tile]:
    """The region cut into ``cols`` x ``rows`` tiles, in reading order (row 0 is the bottom, as on the plane),
    ordered from the centre outwards so the middle of the picture fills in first."""
    w, h = region.width / cols, region.height / rows
    out = [Tile(0, c, r, region.x0 + c * w, region.x0 + (c + 1) * w, region.y0 + r * h, region.y0 + (r + 1) * h,
                size, size) for r in range(rows) for c in range(cols)]
    mid_c, mid_r = (cols - 1) / 2, (rows - 1) / 2
    out.sort(key=lambda t: ((t.col - mid_c) ** 2 + (t.row - mid_r) ** 2, t.row, t.col))
    return [Tile(i, t.col, t.row, t.x0, t.x1, t.y0, t.y1, t.width, t.height) for i, t in enumerate(out)]


def iterations(region: Region) -> int:
    """How many iterations show the region's detail: more the deeper the zoom."""
    depth = max(0.0, math.log2(region.magnification))
    return int(min(MAX_ITERATIONS, BASE_ITERATIONS + 40 * depth))


def escape(x0: float, x1: float, y0: float, y1: float, width: int, height: int,
           max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel centre, the iterations before ``z -> z*z + c`` leaves radius 2 (``max_iter``: never left),
    and the orbit's last point (where it left, or where it was after ``max_iter`` iterations).

    Row 0 is the bottom row (``y0``), as bokeh draws images.
    """
    xs = x0 + (np.arange(width) + 0.5) * (x1 - x0) / width
    ys = y0 + (np.arange(height) + 0.5) * (y1 - y0) / height
    c = xs[np.newaxis, :] + 1j * ys[:, np.newaxis]
    z = np.zeros_like(c)
    counts = np.full(c.shape, max_iter, dtype=np.int32)
    alive = np.ones(c.shape, dtype=bool)
    for i in range(max_iter):
        z[alive] = z[alive] * z[alive] + c[alive]
        escaped = alive & (z.real * z.real + z.imag * z.imag > 4.0)
        counts[escaped] = i
        alive &= ~escaped
        if not alive.any():
            break
    return counts, z


def escape_counts(x0: float, x1: float, y0: float, y1: float, width: int, height: int,
                  max_iter: int) -> np.ndarray:
    """The escape counts of :func:`escape` alone."""
    return escape(x0, x1, y0, y1, width, height, max_iter)[0]


def render_tile(max_iter: int, x0: float, x1: float, y0: float, y1: float, width: int, height: int) -> np.ndarray:
    """One tile's pixels (runs on an engine): :func:`escape` coloured by :func:`~.palette.colour`."""
    counts, z = escape(x0, x1, y0, y1, width, height, max_iter)
    return colour(counts, z, max_iter)


__all__ = ["Region", "Tile", "HOME", "ATTRACT_POINT", "tiles", "iterations", "escape", "escape_counts",
           "render_tile", "WIDTH", "HEIGHT", "COLS", "ROWS", "TILE", "ZOOM"]
