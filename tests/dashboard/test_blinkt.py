"""The Blinkt! driver's APA102 bit stream, with a recording stand-in for gpiod (unit test: no board here)."""

import enum
import sys
import types

import pytest

from clusterkit import leds


class Value(enum.Enum):
    INACTIVE = 0
    ACTIVE = 1


class Recorder:
    """Records the data line's level at each rising edge of the clock line."""

    def __init__(self, data: int, clock: int):
        self.data_pin, self.clock_pin = data, clock
        self.level = {data: Value.INACTIVE, clock: Value.INACTIVE}
        self.bits: list[int] = []
        self.released = False

    def set_value(self, pin, value):
        if pin == self.clock_pin and value is Value.ACTIVE and self.level[pin] is Value.INACTIVE:
            self.bits.append(1 if self.level[self.data_pin] is Value.ACTIVE else 0)
        self.level[pin] = value

    def release(self):
        self.released = True

    def frames(self) -> list[list[int]]:
        """Every show(): start frame, 8 pixels of 4 bytes, latch clocks: the pixel bytes of each."""
        size = 32 + 8 * 32 + 36
        assert len(self.bits) % size == 0
        out = []
        for start in range(0, len(self.bits), size):
            bits = self.bits[start:start + size]
            assert bits[:32] == [0] * 32 and bits[-36:] == [0] * 36
            body = bits[32:32 + 256]
            out.append([int("".join(map(str, body[i:i + 8])), 2) for i in range(0, 256, 8)])
        return out


@pytest.fixture
def fake_gpiod(monkeypatch):
    made = {}
    gpiod = types.ModuleType("gpiod")
    line = types.ModuleType("gpiod.line")
    line.Value = Value
    line.Direction = enum.Enum("Direction", "INPUT OUTPUT")
    gpiod.line = line
    gpiod.LineSettings = lambda direction: ("settings", direction)

    def request_lines(chip, consumer, config):
        (pins,) = config
        made["chip"], made["consumer"] = chip, consumer
        made["rec"] = Recorder(*pins)
        return made["rec"]

    gpiod.request_lines = request_lines
    monkeypatch.setitem(sys.modules, "gpiod", gpiod)
    monkeypatch.setitem(sys.modules, "gpiod.line", line)
    return made


def test_pixels_go_out_as_apa102_frames(fake_gpiod):
    strip = leds.BlinktStrip(chip="/dev/gpiochip0")
    rec = fake_gpiod["rec"]
    assert (rec.data_pin, rec.clock_pin) == (23, 24) and fake_gpiod["consumer"] == "clusterkit-agent"
    strip.set_brightness(1.0)
    strip.set_pixels([(255, 0, 0), (0, 255, 0), (0, 0, 255)] + [leds.OFF] * 5)
    frame = rec.frames()[-1]
    # Per pixel: 0b111 + 5 bits of brightness, then blue, green, red.
    assert frame[:12] == [0xFF, 0, 0, 255, 0xFF, 0, 255, 0, 0xFF, 255, 0, 0]
    assert frame[12:] == [0xFF, 0, 0, 0] * 5
    strip.set_brightness(0.2)
    assert rec.frames()[-1][0] == 0b11100000 | int(31 * 0.2)
    strip.close()                                        # cleared, then the pins are given back
    assert rec.frames()[-1][1:4] == [0, 0, 0] and rec.released
