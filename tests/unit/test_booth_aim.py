"""Every touch on the booth's picture gives a picture worth looking at (issue 20, item 6): deep inside the set the
picture goes to the set's nearest edge, and the inside is shaded, never flat black. No cluster: the engines'
own tile function, on one small tile the size of the whole region."""

import numpy as np
import pytest

from clusterkit.booth import fractal
from clusterkit.booth.aim import aim, next_region

HOME = fractal.HOME
#: Deep inside the main cardioid (its middle, and its centre c = 0) and the period-2 bulb (its centre, c = -1).
CARDIOID, NUCLEUS, BULB = (-0.2, 0.0), (0.0, 0.0), (-1.0, 0.0)
#: Touches spread over the whole set's picture: the middle of each of its 24 tiles, and the dark shapes.
SPREAD = [((t.x0 + t.x1) / 2, (t.y0 + t.y1) / 2) for t in fractal.tiles(HOME)] + [CARDIOID, NUCLEUS, BULB]


def looks(region: fractal.Region, width: int = 192, height: int = 128) -> dict:
    """What a visitor sees of ``region`` (at a quarter of the picture's size): the share of pixels outside the
    set, how many colours, and the share of the most common colour."""
    n = fractal.iterations(region)
    args = (region.x0, region.x1, region.y0, region.y1, width, height)
    pixels = fractal.render_tile(n, *args)
    outside = (fractal.escape_counts(*args, n) < n).mean()
    _, per_colour = np.unique(pixels, return_counts=True)
    return {"outside": outside, "colours": len(per_colour), "commonest": per_colour.max() / pixels.size}


def worth_looking_at(seen: dict) -> bool:
    """A quarter of the picture outside the set, hundreds of colours, and no colour on more than a seventh of it."""
    return seen["outside"] >= 0.25 and seen["colours"] >= 500 and seen["commonest"] <= 1 / 7


@pytest.mark.parametrize("touch", SPREAD, ids=[f"{x:+.2f}{y:+.2f}i" for x, y in SPREAD])
def test_every_touch_and_the_next_in_its_middle_gives_a_picture_worth_looking_at(touch):
    first = next_region(HOME, *touch)
    assert first.width == pytest.approx(HOME.width / fractal.ZOOM)
    assert worth_looking_at(looks(first)), looks(first)
    second = next_region(first, first.cx, first.cy)   # "the second touch was black again"
    assert worth_looking_at(looks(second)), looks(second)


def test_a_touch_deep_inside_goes_to_the_nearest_edge_and_one_at_the_edge_stays():
    for x, y in (CARDIOID, NUCLEUS, BULB):
        cx, cy = aim(HOME, x, y)
        assert (cx, cy) != (x, y) and abs(complex(cx - x, cy - y)) < 0.7   # moved, but not across the picture
        assert looks(HOME.zoom(x, y))["outside"] < 0.4                      # where it would have gone: mostly inside
    assert aim(HOME, -0.75, 0.1) == (-0.75, 0.1)                            # seahorse valley: kept as touched
    assert aim(HOME, 0.3, 0.0) == (0.3, 0.0)                                # just right of the cusp: kept


def test_the_inside_of_the_set_is_shaded_not_flat():
    region = HOME.zoom(*CARDIOID)                                          # the old first touch: all inside
    n = fractal.iterations(region)
    args = (region.x0, region.x1, region.y0, region.y1, 96, 64)
    assert (fractal.escape_counts(*args, n) == n).all()
    rgba = fractal.render_tile(n, *args).view(np.uint8).reshape(64, 96, 4)
    assert len(np.unique(rgba.reshape(-1, 4), axis=0)) >= 100
    assert rgba[..., :3].max() <= 128                                      # still the dark shape
