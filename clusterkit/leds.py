"""The LEDs of a node: an 8-pixel strip, its patterns, and the drivers behind it.

A Blinkt! board (eight APA102 pixels) sits on each Raspberry Pi of the cluster.
Elsewhere a :class:`VirtualStrip` keeps the same pixels in memory; the node
agent reports them in every sample and the dashboard draws them with
:func:`led_row_html`, so the virtual LEDs show exactly what a real strip would.

Patterns are pure functions of time and load, so tests can check their pixels:

- ``larson``: a red eye sweeping back and forth (the Larson scanner);
- ``cpu``: a bar of up to eight pixels, green to red, following the node's load;
- ``identify``: every pixel blinking white, to find one board in the case;
- ``clear``: every pixel off;
- ``fill``: every pixel one colour (the booth lights a node in its colour while it computes a tile);
  not a button of its own: :meth:`LedController.fill` sets it.
"""

from __future__ import annotations

import html
import time
from abc import ABC, abstractmethod

from .errors import ClusterkitError

#: Pixels on a Blinkt! board.
NUM_PIXELS = 8
#: Known patterns, in the order the dashboard shows their buttons.
PATTERNS = ("larson", "cpu", "identify", "clear")
#: The one-colour pattern (set with a colour: :meth:`LedController.fill`, the agent's ``{"fill": "#rrggbb"}``).
FILL = "fill"
#: Seconds for the Larson eye to sweep one way.
LARSON_SWEEP = 1.0
#: Blinks a second of the identify pattern.
IDENTIFY_HZ = 2.0
#: Blinkt!'s data and clock pins (BCM numbering).
BLINKT_DATA, BLINKT_CLOCK = 23, 24

Pixel = tuple[int, int, int]
OFF: Pixel = (0, 0, 0)


def larson(t: float) -> list[Pixel]:
    """The Larson scanner at time ``t``: a bright red eye and a dimmer tail."""
    period = 2 * (NUM_PIXELS - 1)
    step = int(t / LARSON_SWEEP * (NUM_PIXELS - 1)) % period
    eye = step if step < NUM_PIXELS else period - step
    pixels = [OFF] * NUM_PIXELS
    for i in range(NUM_PIXELS):
        d = abs(i - eye)
        if d == 0:
            pixels[i] = (255, 0, 0)
        elif d == 1:
            pixels[i] = (64, 0, 0)
    return pixels


def load_colour(fraction: float) -> Pixel:
    """Green at no load, yellow half way, red at full load."""
    f = min(max(fraction, 0.0), 1.0)
    return (int(round(255 * min(1.0, 2 * f))), int(round(255 * min(1.0, 2 * (1 - f)))), 0)


def cpu_bar(load: float) -> list[Pixel]:
    """A bar of ``round(load / 100 * 8)`` pixels (at least one when there is any load).

    Pixel ``i`` has the colour of its own position (green at the bottom, red at
    the top), so a full bar runs green to red.
    """
    frac = min(max(load / 100.0, 0.0), 1.0)
    lit = int(round(frac * NUM_PIXELS))
    if lit == 0 and frac > 0.02:
        lit = 1
    return [load_colour(i / (NUM_PIXELS - 1)) if i < lit else OFF for i in range(NUM_PIXELS)]


def identify(t: float) -> list[Pixel]:
    """Every pixel white for the first half of each blink, then off."""
    on = (t * IDENTIFY_HZ) % 1.0 < 0.5
    return [(255, 255, 255) if on else OFF] * NUM_PIXELS


def parse_colour(colour: str) -> Pixel:
    """``#rrggbb`` as a pixel; a clear error for anything else."""
    if not (isinstance(colour, str) and len(colour) == 7 and colour[0] == "#"):
        raise ClusterkitError(f"is #rrggbb, not {colour!r}", field="colour")
    try:
        return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    except ValueError:
        raise ClusterkitError(f"is #rrggbb, not {colour!r}", field="colour") from None


def pattern_pixels(pattern: str, *, t: float, load: float, colour: Pixel = OFF) -> list[Pixel]:
    """The pixels of ``pattern`` at time ``t`` for a node at ``load`` percent (``colour``: the fill's)."""
    if pattern == FILL:
        return [colour] * NUM_PIXELS
    if pattern == "larson":
        return larson(t)
    if pattern == "cpu":
        return cpu_bar(load)
    if pattern == "identify":
        return identify(t)
    if pattern == "clear":
        return [OFF] * NUM_PIXELS
    raise ClusterkitError(f"unknown pattern {pattern!r}; the patterns are {', '.join(PATTERNS)}", field="pattern")


def animated(pattern: str) -> bool:
    """Whether a pattern changes with time alone (and so needs frames between samples)."""
    return pattern in ("larson", "identify")


def to_hex(p: Pixel) -> str:
    return "#%02x%02x%02x" % p


# ---------------------------------------------------------------- strips
class LedStrip(ABC):
    """Eight pixels and a global brightness (0 to 1); :meth:`show` pushes them out."""

    def __init__(self) -> None:
        self.pixels: list[Pixel] = [OFF] * NUM_PIXELS
        self.brightness: float = 0.2

    def set_pixels(self, pixels: list[Pixel]) -> bool:
        """Set every pixel; True (and the strip shown) when something changed."""
        if list(pixels) == self.pixels:
            return False
        self.pixels = list(pixels)
        self.show()
        return True

    def set_brightness(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ClusterkitError(f"must be between 0 and 1, not {value}", field="brightness")
        self.brightness = value
        self.show()

    def clear(self) -> None:
        self.pixels = [OFF] * NUM_PIXELS
        self.show()

    @abstractmethod
    def show(self) -> None:
        """Push the pixels out to the hardware (nothing to do for a virtual strip)."""

    def close(self) -> None:
        """Clear the strip and release it."""
        self.clear()


class VirtualStrip(LedStrip):
    """A strip in memory: what the agent reports is all there is."""

    def show(self) -> None:
        pass


class BlinktStrip(LedStrip):
    """A Blinkt! board: APA102 pixels bit-banged on two GPIO lines through ``gpiod`` (the ``pi`` extra).

    The APA102 protocol: 32 zero bits, then per pixel ``111`` + 5 bits of
    brightness, blue, green, red; then one clock pulse per two pixels to latch.
    On a Pi 5 only one process can hold the pins: the node agent owns them.
    """

    def __init__(self, *, chip: str | None = None, data_pin: int = BLINKT_DATA, clock_pin: int = BLINKT_CLOCK):
        """``chip``: the GPIO chip (a /dev/gpiochipN); None finds the Pi's header chip."""
        super().__init__()
        self.chip, self.data_pin, self.clock_pin = chip, data_pin, clock_pin
        self._request = None
        try:
            import gpiod  # the optional ``pi`` extra; only boards have it
            from gpiod.line import Direction, Value
        except ImportError:
            raise ClusterkitError("the Blinkt! driver needs the gpiod package (pip install 'clusterkit[pi]')",
                                  field="leds") from None
        self._high, self._low = Value.ACTIVE, Value.INACTIVE
        chip = self.chip or _header_chip(gpiod)
        self._request = gpiod.request_lines(
            chip, consumer="clusterkit-agent",
            config={(self.data_pin, self.clock_pin): gpiod.LineSettings(direction=Direction.OUTPUT)})

    def _write_byte(self, byte: int) -> None:
        req = self._request
        for bit in range(7, -1, -1):
            req.set_value(self.data_pin, self._high if byte >> bit & 1 else self._low)
            req.set_value(self.clock_pin, self._high)
            req.set_value(self.clock_pin, self._low)

    def show(self) -> None:
        if self._request is None:
            return
        for _ in range(4):
            self._write_byte(0)
        level = 0b11100000 | (int(31 * self.brightness) & 0b11111)
        for r, g, b in self.pixels:
            for byte in (level, b, g, r):
                self._write_byte(byte)
        req = self._request
        req.set_value(self.data_pin, self._low)
        for _ in range(36):
            req.set_value(self.clock_pin, self._high)
            req.set_value(self.clock_pin, self._low)

    def close(self) -> None:
        if self._request is not None:
            self.clear()
            self._request.release()
            self._request = None


def _header_chip(gpiod) -> str:
    """The GPIO chip wired to the 40-pin header (``pinctrl-rp1`` on a Pi 5, ``pinctrl-bcm…`` before)."""
    import glob
    for path in sorted(glob.glob("/dev/gpiochip*")):
        try:
            with gpiod.Chip(path) as chip:
                label = chip.get_info().label
        except OSError:
            continue
        if label.startswith(("pinctrl-rp1", "pinctrl-bcm")):
            return path
    raise ClusterkitError("no Raspberry Pi GPIO header found (no pinctrl-rp1 or pinctrl-bcm chip)", field="leds")


def make_strip(kind: str) -> LedStrip:
    """``virtual``, ``blinkt``, or ``auto`` (a Blinkt! when gpiod and a Pi header are there, else virtual)."""
    if kind == "virtual":
        return VirtualStrip()
    if kind == "blinkt":
        return BlinktStrip()
    if kind == "auto":
        try:
            return BlinktStrip()
        except (ClusterkitError, OSError):
            return VirtualStrip()
    raise ClusterkitError(f"unknown LED strip {kind!r}; use virtual, blinkt or auto", field="leds")


class LedController:
    """A strip and the pattern it shows; :meth:`frame` draws the pattern for now and a load."""

    def __init__(self, strip: LedStrip, *, pattern: str = "cpu", clock=time.monotonic):
        self.strip = strip
        self.clock = clock
        self.pattern = "clear"
        self.colour: Pixel = OFF
        self.started = clock()
        self.set_pattern(pattern)

    def set_pattern(self, pattern: str) -> None:
        if pattern == FILL:
            raise ClusterkitError("fill takes a colour: use fill('#rrggbb')", field="pattern")
        pattern_pixels(pattern, t=0.0, load=0.0)  # refuses an unknown name
        self.pattern = pattern
        self.started = self.clock()

    def fill(self, colour: str) -> None:
        """Every pixel ``colour`` (``#rrggbb``) until another pattern is set."""
        self.colour = parse_colour(colour)
        self.pattern = FILL
        self.started = self.clock()

    def frame(self, load: float) -> bool:
        """Draw the current pattern; True when a pixel changed."""
        t = self.clock() - self.started
        return self.strip.set_pixels(pattern_pixels(self.pattern, t=t, load=load, colour=self.colour))

    def report(self) -> list[str]:
        """The pixels as ``#rrggbb`` (full colour; the brightness is reported beside them)."""
        return [to_hex(p) for p in self.strip.pixels]


# ---------------------------------------------------------------- the virtual LEDs on a page
def led_row_html(pixels: list[str], *, node: str, brightness: float = 1.0, alive: bool = True,
                 reason: str = "") -> str:
    """One node's LEDs as eight coloured boxes (``pixels`` as ``#rrggbb``); greyed out with the reason when down.

    A lit pixel's opacity follows the brightness (never below 0.4, so a dim strip stays visible).
    """
    glow = 0.4 + 0.6 * min(max(brightness, 0.0), 1.0)
    boxes = "".join(
        f'<span class="ck-led" data-led="{i}" style="display:inline-block;width:18px;height:18px;'
        f'margin:1px;border-radius:50%;border:1px solid #444;background:{html.escape(c)};'
        f'opacity:{1.0 if c == "#000000" else glow:.2f}"></span>'
        for i, c in enumerate(pixels))
    note = f' <span class="ck-led-reason" style="color:#888">{html.escape(reason)}</span>' if reason else ""
    style = "opacity:0.35;filter:grayscale(1);" if not alive else ""
    return (f'<div class="ck-led-row" data-node="{html.escape(node)}" style="{style}font-family:monospace">'
            f'<span style="display:inline-block;width:5em">{html.escape(node)}</span>{boxes}{note}</div>')
