"""Attract mode: after some time without a touch the page zooms slowly into the set and every node shows
the Larson scanner; the next touch only wakes it and brings back the whole set for the next visitor."""

from __future__ import annotations

import threading
import time

from .fractal import ATTRACT_POINT, HOME, Region

#: Seconds without a touch before attract mode.
IDLE_SECONDS = 60.0
#: Each step of the idle zoom narrows the view by this factor; a step every ATTRACT_STEP seconds.
ATTRACT_ZOOM, ATTRACT_STEP = 1.01, 0.25
#: The idle zoom starts over from the whole set once it is this many times closer.
ATTRACT_DEPTH = 6.0


class Attract:
    """The booth's attract mode: whether it is on (:attr:`active`), when the page was last touched, the zoom.

    ``idle``: seconds without a touch before :meth:`tick` turns it on. A touch and
    the booth's thread never change it at once.
    """

    def __init__(self, booth, *, idle: float = IDLE_SECONDS):
        self.booth = booth
        self.idle = idle
        self.active = False
        self.last_touch = time.monotonic()
        self._zoom = 1.0
        self._lock = threading.Lock()

    def touched(self) -> bool:
        """Note a touch; True when it only woke the page from attract mode (the touch then does nothing else)."""
        self.last_touch = time.monotonic()
        with self._lock:
            if not self.active:
                return False
            self.leave()
            return True

    def tick(self) -> None:
        """One step of the idle zoom while on; else turn on after ``idle`` seconds without a touch or a drawing."""
        with self._lock:
            if self.active:
                self._step()
            elif (time.monotonic() - self.last_touch > self.idle and self.booth.ready
                  and not self.booth.drawing.busy.locked()):
                self.enter()

    def enter(self) -> None:
        """The whole set, slowly zooming, and the Larson scanner on every node, until the next touch."""
        booth = self.booth
        if booth.ready:
            booth.home()
        self._zoom = 1.0
        booth.dashboard.set_pattern("larson")
        booth.attract_banner.layout.display = "block"
        booth.add_class("ck-attract")
        self.active = True

    def leave(self) -> None:
        booth = self.booth
        self.active = False
        booth.remove_class("ck-attract")
        booth.attract_banner.layout.display = "none"
        booth.dashboard.set_pattern("cpu")
        if booth.ready:
            booth.home()

    def _step(self) -> None:
        self._zoom *= ATTRACT_ZOOM
        if self._zoom > ATTRACT_DEPTH:
            self._zoom = 1.0
        base = self.booth.home_shot[0] if self.booth.home_shot else HOME
        f = 1.0 - 1.0 / self._zoom   # the centre glides from the picture's centre to the point
        cx = base.cx + (ATTRACT_POINT[0] - base.cx) * f
        cy = base.cy + (ATTRACT_POINT[1] - base.cy) * f
        self.booth.picture.view(Region(cx, cy, base.width / self._zoom))


__all__ = ["ATTRACT_STEP", "Attract", "IDLE_SECONDS"]
