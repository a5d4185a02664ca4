"""The booth's colours: a pixel's escape count and its orbit's last point, as RGBA packed in ``uint32``.

Outside the set, bands of :data:`STOPS` cycled every :data:`BAND` iterations,
smoothed by how far past radius 2 the orbit landed (neighbouring pixels shade
into each other instead of jumping a band). Inside the set, where every pixel
has the same count, a dark shade by the orbit's final ``|z|``: the set still
reads as the dark shape, but a picture deep inside it shows its inner pattern
rather than flat black. Runs on the engines, with :func:`~.fractal.render_tile`.
"""

from __future__ import annotations

import numpy as np

#: The colours outside the set, cycled every BAND iterations: deep blue, sky blue, white, gold, dark.
STOPS = np.array([(0, 7, 100), (32, 107, 203), (237, 255, 255), (255, 170, 0), (60, 20, 0), (0, 7, 100)],
                 dtype=float)
BAND = 48
#: The colours inside the set by the orbit's final |z| (0 to 1 and beyond): near black, plum, dark teal.
INSIDE = np.array([(6, 2, 20), (70, 16, 84), (18, 84, 96), (6, 2, 20)], dtype=float)
#: How many times the inside colours cycle as the final |z| goes from 0 to 1.
INSIDE_CYCLES = 2.0


def smooth_counts(counts: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Escape counts made continuous: ``n + 1 - log2(log2 |z|)`` for an orbit that left radius 2 at ``z``."""
    r = np.maximum(np.abs(z), 2.0 + 1e-9)
    return counts + 1.0 - np.log2(np.log2(r))


def _ramp(t: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``t`` in [0, 1) through the colours of ``stops``: an (..., 3) float array."""
    where = np.linspace(0.0, 1.0, len(stops))
    return np.stack([np.interp(t, where, stops[:, k]) for k in range(3)], axis=-1)


def colour(counts: np.ndarray, z: np.ndarray, max_iter: int) -> np.ndarray:
    """Escape counts (``max_iter``: never left) and each orbit's last point as RGBA packed in ``uint32``
    (little-endian ``r, g, b, a`` bytes)."""
    inside = counts >= max_iter
    outside = _ramp((smooth_counts(counts, z) % BAND) / BAND, STOPS)
    shade = _ramp((np.abs(z) * INSIDE_CYCLES) % 1.0, INSIDE)
    rgb = np.where(inside[..., np.newaxis], shade, outside)
    rgba = np.empty(counts.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = np.clip(np.rint(rgb), 0, 255)
    rgba[..., 3] = 255
    return rgba.view(np.uint32).reshape(counts.shape)


__all__ = ["colour", "smooth_counts", "STOPS", "BAND", "INSIDE"]
