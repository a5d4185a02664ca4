"""The booth: visitors touch a fractal, the cluster draws that spot tile by tile.

- :mod:`.fractal`: the Mandelbrot set, regions, tiles (the maths, and the function engines run);
- :mod:`.palette`: its colours (bands outside the set, a dark shade by the orbit inside it);
- :mod:`.aim`: where a touch takes the picture (the set's nearest edge when the spot touched is flat);
- :mod:`.scheduler`: one tile per engine at a time; a node that drops out gives its tiles to the others;
- :mod:`.count`: pictures drawn today, in a file on the primary;
- :mod:`.words`: the race's result and the battery in plain words;
- :mod:`.drawing`: the picture being drawn (one at a time, in a thread) and the race;
- :mod:`.attract`: attract mode, after a while without a touch;
- :mod:`.picture` and :mod:`.page`: the picture on the page, and the page (:class:`Booth`).
"""

from .page import Booth

__all__ = ["Booth"]
