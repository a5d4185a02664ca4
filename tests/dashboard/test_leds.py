"""LED patterns give the expected pixels; the strips and the virtual row on the page."""

import pytest

from clusterkit import leds
from clusterkit.errors import ClusterkitError

RED, DIM, OFF = (255, 0, 0), (64, 0, 0), (0, 0, 0)


def test_cpu_bar_follows_load_green_to_red():
    assert leds.cpu_bar(0) == [OFF] * 8
    assert leds.cpu_bar(1) == [OFF] * 8                    # noise stays dark
    assert leds.cpu_bar(5)[0] == (0, 255, 0) and leds.cpu_bar(5)[1:] == [OFF] * 7
    half = leds.cpu_bar(50)
    assert sum(p != OFF for p in half) == 4
    full = leds.cpu_bar(100)
    assert full[0] == (0, 255, 0) and full[-1] == (255, 0, 0)
    reds = [p[0] for p in full]
    assert reds == sorted(reds)                            # greener at the bottom, redder at the top
    assert leds.cpu_bar(250) == full


def test_larson_sweeps_there_and_back():
    step = leds.LARSON_SWEEP / 7
    eyes = [leds.larson(i * step + step / 2).index(RED) for i in range(15)]
    assert eyes == [0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1, 0]
    frame = leds.larson(3 * step + step / 2)
    assert frame == [OFF, OFF, DIM, RED, DIM, OFF, OFF, OFF]


def test_identify_blinks_and_clear_is_dark():
    period = 1 / leds.IDENTIFY_HZ
    assert leds.identify(0.1 * period) == [(255, 255, 255)] * 8
    assert leds.identify(0.6 * period) == [OFF] * 8
    assert leds.pattern_pixels("clear", t=3.0, load=99) == [OFF] * 8
    with pytest.raises(ClusterkitError, match="unknown pattern 'disco'"):
        leds.pattern_pixels("disco", t=0, load=0)


def test_controller_reports_what_the_strip_holds():
    t = [0.0]
    ctl = leds.LedController(leds.VirtualStrip(), pattern="cpu", clock=lambda: t[0])
    assert ctl.frame(100.0) is True
    assert ctl.report()[0] == "#00ff00" and ctl.report()[-1] == "#ff0000"
    assert ctl.frame(100.0) is False                       # nothing changed, nothing pushed
    ctl.set_pattern("clear")
    ctl.frame(100.0)
    assert ctl.report() == ["#000000"] * 8
    with pytest.raises(ClusterkitError):
        ctl.strip.set_brightness(2.0)


def test_blinkt_needs_gpiod_or_says_so():
    try:
        import gpiod  # noqa: F401
        pytest.skip("gpiod is installed here")
    except ImportError:
        pass
    with pytest.raises(ClusterkitError, match="gpiod"):
        leds.make_strip("blinkt")
    assert isinstance(leds.make_strip("auto"), leds.VirtualStrip)
    with pytest.raises(ClusterkitError, match="unknown LED strip"):
        leds.make_strip("neon")


def test_virtual_row_shows_the_pixels_and_greys_out_with_the_reason():
    row = leds.led_row_html(["#ff0000"] + ["#000000"] * 7, node="pc1")
    assert row.count('class="ck-led"') == 8 and "background:#ff0000" in row
    down = leds.led_row_html(["#000000"] * 8, node="pc1", alive=False, reason="agent killed by signal 9")
    assert "grayscale" in down and "agent killed by signal 9" in down
