"""Rendering a picture tile by tile on the engines, one tile per engine at a time.

Each engine gets one tile; when it hands the tile back it gets the next. So the
page knows at every moment which node works on which tile (its LEDs light in
its colour while it has one), and faster nodes take more tiles. When a node
drops out (its engines die, or leave the controller), the tiles it held go back
to the queue and the others take them; the render says who dropped out.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from typing import Callable

from ipyparallel.error import EngineError, NoEnginesRegistered, RemoteError

from ..errors import ClusterkitError
from .fractal import Region, Tile, iterations, render_tile, tiles

#: Longest wait for a tile before the render looks again at which engines are alive: an engine that
#: leaves while it holds no tile completes no future, so the render notices it only by looking.
RECHECK = 0.5
#: Seconds a render may last before it gives up on the tiles left (a stuck engine, not a slow picture).
DEFAULT_TIMEOUT = 300.0


@dataclass
class RenderReport:
    """How a render went: when the first tile and the last arrived, who computed what, who dropped out."""

    region: Region
    nodes: tuple[str, ...]                  #: the nodes asked to render
    tiles: int
    done: dict[int, str] = field(default_factory=dict)  #: tile index -> the node that computed it
    first_tile: float | None = None         #: seconds from the start to the first tile
    seconds: float | None = None            #: seconds from the start to the last tile (None: not finished)
    lost: list[str] = field(default_factory=list)       #: nodes that dropped out during the render
    moved: int = 0                          #: tiles given to another node after theirs dropped out
    error: str | None = None
    started: float = 0.0                    #: ``time.perf_counter()`` when the render began

    @property
    def complete(self) -> bool:
        return len(self.done) == self.tiles

    @property
    def by_node(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for node in self.done.values():
            out[node] = out.get(node, 0) + 1
        return out


class Render:
    """One region on the engines of the chosen nodes; :meth:`run` blocks until every tile is back.

    ``on_tile(tile, node, pixels)`` is called as each tile arrives, ``on_busy(node, busy)``
    when a node starts or stops holding a tile, ``on_lost(node, moved)`` when a node
    drops out (``moved``: how many of its tiles went to the others). All are called
    from the thread that runs :meth:`run`.
    """

    def __init__(self, engines, region: Region, *, nodes: list[str] | None = None,
                 on_tile: Callable | None = None, on_busy: Callable | None = None, on_lost: Callable | None = None,
                 timeout: float = DEFAULT_TIMEOUT, fn: Callable = render_tile):
        self.engines = engines
        self.region = region
        self.tiles: list[Tile] = tiles(region)
        self.max_iter = iterations(region)
        names = list(nodes) if nodes is not None else [n for n, ids, _ in engines.map.rows() if ids]
        self.owner = {e.id: e.node for e in engines.map.engines if e.node in names}
        if not self.owner:
            raise ClusterkitError(f"no engines on {', '.join(names) or 'any node'}", field="nodes")
        self.nodes = tuple(n for n in names if n in self.owner.values())
        self.on_tile, self.on_busy, self.on_lost = on_tile, on_busy, on_lost
        self.timeout = timeout
        self.fn = fn
        self.report = RenderReport(region, self.nodes, len(self.tiles))
        self._stop = threading.Event()

    def cancel(self) -> None:
        """Stop handing out tiles; :meth:`run` returns once the tiles in flight are back."""
        self._stop.set()

    def _call(self, callback, *args) -> None:
        if callback is not None:
            callback(*args)

    def run(self) -> RenderReport:
        client = self.engines.client
        report = self.report
        self._queue: deque[Tile] = deque(self.tiles)
        self._idle = deque(eid for eid in self.owner if eid in set(client.ids))
        self._flying: dict[int, tuple[Tile, object]] = {}
        self._holding: dict[str, int] = {}
        self._dead: set[int] = set()
        t0 = report.started = time.perf_counter()
        while (self._queue and not self._stop.is_set()) or self._flying:
            if time.perf_counter() - t0 > self.timeout:
                report.error = f"gave up after {self.timeout:g} s with {len(self.tiles) - len(report.done)} tiles left"
                break
            self._drop_departed(client)
            self._hand_out(client)
            if not self._flying and self._queue and not self._idle:
                report.error = "no node is left to render"
                break
            self._wait(t0)
            self._collect(t0)
        for node, n in self._holding.items():
            if n:
                self._call(self.on_busy, node, False)
        if report.complete:
            report.seconds = time.perf_counter() - t0
        return report

    def _drop_departed(self, client) -> None:
        """Drop the engines (idle or holding a tile) that the client no longer lists."""
        live = set(client.ids)
        for eid in [e for e in list(self._idle) + list(self._flying) if e not in live and e not in self._dead]:
            if eid in self._idle:
                self._idle.remove(eid)
            self._drop(eid)

    def _wait(self, t0: float) -> None:
        """Wait until a tile in flight comes back (or fails), at most :data:`RECHECK` seconds or what is left
        of the timeout: the wait is on the tasks' futures, not a look every few milliseconds."""
        if self._flying:
            left = self.timeout - (time.perf_counter() - t0)
            wait([ar for _, ar in self._flying.values()], timeout=max(0.0, min(RECHECK, left)),
                 return_when=FIRST_COMPLETED)

    def _busy(self, node: str, delta: int) -> None:
        before = self._holding.get(node, 0)
        self._holding[node] = before + delta
        if (before == 0) != (self._holding[node] == 0):
            self._call(self.on_busy, node, self._holding[node] > 0)

    def _drop(self, eid: int) -> None:
        """Engine ``eid`` left: the tile it held goes back to the queue; its node is lost once all its engines are."""
        report = self.report
        self._dead.add(eid)
        node = self.owner[eid]
        moved = 0
        if eid in self._flying:
            tile, _ = self._flying.pop(eid)
            self._queue.appendleft(tile)
            self._busy(node, -1)
            moved = 1
        if node not in report.lost and all(e in self._dead for e, n in self.owner.items() if n == node):
            report.lost.append(node)
        report.moved += moved
        self._call(self.on_lost, node, moved)

    def _hand_out(self, client) -> None:
        """A tile to every idle engine. ipyparallel's client learns that an engine left on a thread of its own,
        at any moment: when that happens between the look at the live engines and the send, the send refuses
        the engine (IndexError "No such engine", or KeyError, NoEnginesRegistered when it was the last one).
        That is the engine dropping out, not a fault of the render: the tile goes back to the queue."""
        while self._queue and self._idle and not self._stop.is_set():
            eid = self._idle.popleft()
            tile = self._queue.popleft()
            try:
                sent = client[eid].apply_async(self.fn, self.max_iter, *tile.args)
            except (IndexError, KeyError, NoEnginesRegistered):
                if eid in client.ids:
                    raise
                self._queue.appendleft(tile)
                self._drop(eid)
                continue
            self._flying[eid] = (tile, sent)
            self._busy(self.owner[eid], +1)

    def _collect(self, t0: float) -> None:
        """Take in the tiles that came back; a tile whose engine died goes back to the queue."""
        report = self.report
        for eid, (tile, ar) in list(self._flying.items()):
            if not ar.ready():
                continue
            try:
                pixels = ar.get(0)
            except Exception as e:
                if _engine_died(e):   # the engine died with the tile
                    self._drop(eid)
                    continue
                # the tile itself failed: a fault to show, not a node to drop
                del self._flying[eid]
                self._busy(self.owner[eid], -1)
                report.error = f"tile {tile.index} failed on {self.owner[eid]}: {type(e).__name__}: {e}"
                self._stop.set()
                continue
            del self._flying[eid]
            self._busy(self.owner[eid], -1)
            report.done[tile.index] = self.owner[eid]
            if report.first_tile is None:
                report.first_tile = time.perf_counter() - t0
            self._call(self.on_tile, tile, self.owner[eid], pixels)
            self._idle.append(eid)


def _engine_died(error: Exception) -> bool:
    """The task failed because its engine died, not because of the tile. ipyparallel says so as an
    ``EngineError``, or, when the controller failed the task on the engine's behalf (it noticed the
    engine gone before the reply), as a ``RemoteError`` whose remote exception is an ``EngineError``."""
    return isinstance(error, EngineError) or (isinstance(error, RemoteError) and error.ename == "EngineError")


def render(engines, region: Region, *, nodes: list[str] | None = None, on_tile: Callable | None = None,
           on_busy: Callable | None = None, on_lost: Callable | None = None) -> RenderReport:
    """Render ``region`` on the engines of ``nodes`` (all by default) and return the report; the callbacks
    are :class:`Render`'s."""
    return Render(engines, region, nodes=nodes, on_tile=on_tile, on_busy=on_busy, on_lost=on_lost).run()


__all__ = ["Render", "RenderReport", "render"]
