"""The booth's arithmetic and words: regions, tiles, the Mandelbrot set, the count file, the race in plain words."""

import datetime as dt

import numpy as np
import pytest

from clusterkit import leds
from clusterkit.booth import fractal
from clusterkit.booth.count import COUNT_FILE, RegionCount
from clusterkit.booth.words import battery_text, race_words
from clusterkit.errors import ClusterkitError


def test_tiles_cover_the_region_centre_first():
    region = fractal.HOME.zoom(-0.75, 0.1)
    ts = fractal.tiles(region)
    assert len(ts) == fractal.COLS * fractal.ROWS and [t.index for t in ts] == list(range(len(ts)))
    assert {(t.col, t.row) for t in ts} == {(c, r) for c in range(fractal.COLS) for r in range(fractal.ROWS)}
    assert min(t.x0 for t in ts) == pytest.approx(region.x0) and max(t.x1 for t in ts) == pytest.approx(region.x1)
    assert min(t.y0 for t in ts) == pytest.approx(region.y0) and max(t.y1 for t in ts) == pytest.approx(region.y1)
    assert sum((t.x1 - t.x0) * (t.y1 - t.y0) for t in ts) == pytest.approx(region.width * region.height)
    first = ts[0]   # a tile touching the centre comes first, a corner last
    assert first.x0 <= region.cx <= first.x1 and first.y0 <= region.cy <= first.y1
    assert (ts[-1].col, ts[-1].row) in {(0, 0), (0, fractal.ROWS - 1), (fractal.COLS - 1, 0),
                                        (fractal.COLS - 1, fractal.ROWS - 1)}


def test_a_touch_zooms_in_on_the_touched_point_and_deeper_means_more_iterations():
    r = fractal.HOME.zoom(-1.0, 0.25)
    assert (r.cx, r.cy, r.width) == (-1.0, 0.25, fractal.HOME.width / fractal.ZOOM)
    assert r.contains(-1.0, 0.25) and not r.contains(0.5, 0.25)
    assert fractal.iterations(r.zoom(-1.0, 0.25)) > fractal.iterations(r) > fractal.iterations(fractal.HOME)


def test_the_set_is_dark_inside_and_coloured_outside():
    counts = fractal.escape_counts(-0.1, 0.1, -0.1, 0.1, 4, 4, 50)       # around 0: inside the set
    assert (counts == 50).all()
    far = fractal.escape_counts(1.9, 2.1, 1.9, 2.1, 4, 4, 50)            # |c| > 2: out at once
    assert (far == 0).all()
    pixels = fractal.render_tile(50, -2.0, 0.5, -1.0, 1.0, 16, 8)
    assert pixels.shape == (8, 16) and pixels.dtype == np.uint32
    rgba = pixels.view(np.uint8).reshape(8, 16, 4)
    assert (rgba[..., 3] == 255).all()
    inside = fractal.escape_counts(-2.0, 0.5, -1.0, 1.0, 16, 8, 50) == 50
    assert inside.any() and (~inside).any()
    assert (rgba[inside][:, :3] <= 128).all() and (rgba[~inside][:, :3].sum(axis=1) > 0).all()
    counts, z = fractal.escape(-2.0, 0.5, -1.0, 1.0, 16, 8, 50)
    assert (counts == fractal.escape_counts(-2.0, 0.5, -1.0, 1.0, 16, 8, 50)).all()
    assert (np.abs(z[counts < 50]) > 2).all() and (np.abs(z[counts == 50]) <= 2).all()


class FakePrimary:
    """A node's file API on a dict (the count file's only contact with the node)."""

    name = "pc0"

    def __init__(self):
        self.files = {}

    def read_file(self, path):
        return self.files.get(path)

    def write_file(self, path, data, **_):
        self.files[path] = data


def test_the_count_survives_a_new_kiosk_and_starts_again_each_day():
    node, day = FakePrimary(), [dt.date(2026, 12, 2)]
    count = RegionCount(node, today=lambda: day[0])
    assert count.value() == 0
    assert count.add() == 1 and count.add() == 2
    again = RegionCount(node, today=lambda: day[0])          # the kiosk restarted: the file is on the primary
    assert again.value() == 2 and COUNT_FILE in node.files
    day[0] = dt.date(2026, 12, 3)
    assert again.value() == 0 and again.add() == 1
    node.files[COUNT_FILE] = b"{not json"
    with pytest.raises(ClusterkitError, match="not JSON") as e:
        again.value()
    assert e.value.node == "pc0"


def test_the_race_in_words_a_child_understands():
    fast = race_words(6.0, 2.0, nodes=4)
    assert "All 4 together: 2.0 seconds" in fast and "3 times as fast" in fast
    slow = race_words(2.0, 1.95, nodes=4)
    assert "not faster" in slow and "times as fast" not in slow


def test_battery_words_only_say_what_is_known():
    assert battery_text("pc0", {"percent": 63.2, "plugged": False, "secs_left": 7500}) == \
        "pc0: battery 63 %, about 2 h 05 min left"
    assert battery_text("pc0", {"percent": 90.0, "plugged": True}) == "pc0: battery 90 %, charging"
    assert battery_text("pc0", {"percent": 40.0}) == "pc0: battery 40 %"
    assert battery_text("pc0", {}) is None


def test_a_fill_lights_every_pixel_in_one_colour():
    ctl = leds.LedController(leds.VirtualStrip())
    ctl.fill("#ff7f0e")
    ctl.frame(0.0)
    assert ctl.pattern == leds.FILL and ctl.report() == ["#ff7f0e"] * leds.NUM_PIXELS
    with pytest.raises(ClusterkitError, match="#rrggbb"):
        ctl.fill("orange")
    with pytest.raises(ClusterkitError, match="takes a colour"):
        ctl.set_pattern(leds.FILL)
    ctl.set_pattern("clear")
    ctl.frame(0.0)
    assert ctl.report() == ["#000000"] * leds.NUM_PIXELS
