"""Where a touch takes the picture: the touched spot, or the nearest edge of the set when there is nothing there.

Deep inside the set (the big dark shape) or far outside it, the picture a touch
would give is one flat colour. So before drawing, a coarse look (a small grid
of escape counts around the touch, a few milliseconds here) finds the nearest
pixel close to the set's edge, where the escape count is high but finite.
When that is near the touch, the touch is kept; else the picture zooms toward
it, and the page says why.
"""

from __future__ import annotations

import numpy as np

from .fractal import ZOOM, Region, escape_counts, iterations

#: The coarse grid's size in pixels (the picture's shape).
GRID = (96, 64)
#: Finite counts at least this quantile of the grid's finite counts are "close to the edge".
EDGE_QUANTILE = 0.98
#: A touch within this fraction of the new picture's height of the edge is kept as it is.
KEEP = 0.25
#: Ever wider looks around the touch (times the shown region's width) when the first finds no edge.
WIDER = (1.0, 4.0, 16.0)


def edge_points(window: Region, max_iter: int) -> np.ndarray:
    """The points of ``window``'s coarse grid close to the set's edge, as complex numbers (maybe none): pixels
    outside the set next to one inside, and the few whose escape count stands out (thin parts of the set show
    no pixel inside on a coarse grid)."""
    w, h = GRID
    counts = escape_counts(window.x0, window.x1, window.y0, window.y1, w, h, max_iter)
    inside = counts >= max_iter
    if inside.all():
        return np.empty(0, dtype=complex)
    padded = np.pad(inside, 1)
    touching = np.zeros_like(inside)
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            touching |= padded[dr:dr + h, dc:dc + w]
    finite = counts[~inside]
    high = max(np.quantile(finite, EDGE_QUANTILE), finite.min() + 2)
    near = ~inside & (touching | (counts >= high))
    rows, cols = np.nonzero(near)
    return (window.x0 + (cols + 0.5) * window.width / w) + 1j * (window.y0 + (rows + 0.5) * window.height / h)


def aim(region: Region, x: float, y: float, *, factor: float = ZOOM) -> tuple[float, float]:
    """The centre of the picture a touch at ``(x, y)`` on ``region`` gives: the touch itself when the set's
    edge is near it, else the nearest point close to the edge (the touch, if none is found)."""
    new = region.zoom(x, y, factor)
    max_iter = iterations(new)
    touch = complex(x, y)
    for wider in WIDER:
        points = edge_points(Region(x, y, region.width * wider), max_iter)
        if points.size:
            nearest = points[np.argmin(np.abs(points - touch))]
            if abs(nearest - touch) <= KEEP * new.height:
                return float(x), float(y)
            return float(nearest.real), float(nearest.imag)
    return float(x), float(y)


def next_region(region: Region, x: float, y: float, *, factor: float = ZOOM) -> Region:
    """The region a touch at ``(x, y)`` on ``region`` draws: ``factor`` times closer, centred by :func:`aim`."""
    return region.zoom(*aim(region, x, y, factor=factor), factor=factor)


__all__ = ["aim", "next_region", "edge_points"]
