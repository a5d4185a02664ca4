"""Stopping engines: what ipyparallel reports as each process stops, and the sweep that leaves nothing behind.

ipyparallel reports a stop through its launchers, not only in its log: each
launcher calls the callbacks given to ``Launcher.on_stop`` with its
``stop_data`` (``exit_code``, ``pid``, ``identifier``; an engine set adds
``engines``, each engine's own). Just before, the launcher logs the process's
output ("Output for …", a warning when ``exit_code`` is not 0) and its cluster
logs the stop (a warning when ``exit_code`` is set). :class:`QuietStop` holds
those log records while :meth:`~.engines.Engines.stop` runs, and lets each
launcher's ``stop_data`` decide whether the records logged before it are shown:
a stop that ``stop()`` caused is kept quiet, a process that ended otherwise
(killed, crashed) is still shown with its output. Nothing reads the log's text.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

#: Exit statuses of the processes that :meth:`~.engines.Engines.stop` ends, measured with ipyparallel 9.2,
#: ipykernel 7.4 and mpich 5.0 (the PyPI wheels):
#:
#: - ``None`` and 0: the controller on SIGTERM (ipyparallel's own stop), and ipyparallel logs nothing;
#: - 1: an engine asked to shut down (``client.shutdown``) or sent SIGTERM: both stop its event loop, and
#:   ``IPEngine.start`` (``ipyparallel/engine/app.py``, ``self.loop.run_sync(self._start)``) then raises
#:   tornado's "Event loop stopped before Future completed.", which it does not catch, so Python exits 1;
#:   ``mpiexec`` passes its ranks' 1 on;
#: - 15: ``mpiexec`` (Hydra) whose ranks ended on SIGTERM ("EXIT CODE: 15");
#: - 143 and -15: a command ended by SIGTERM, as the leash reports it (128 + 15, ``leash.py``) and as
#:   ipyparallel reports a process it started (a negative signal number).
CLEAN_STOP_EXITS = frozenset({None, 0, 1, 15, 143, -15})


def _exits(stop_data) -> list[int | None]:
    """The exit statuses in one launcher's ``stop_data``: its own and, for an engine set, each engine's."""
    if not isinstance(stop_data, dict):
        return [None]
    engines = stop_data.get("engines") or {}
    codes = [stop_data.get("exit_code")] + [e.get("exit_code") for e in engines.values() if isinstance(e, dict)]
    return [None if c is None else int(c) if isinstance(c, int) else -1 for c in codes]   # "unknown": -1


def clean(stop_data) -> bool:
    """Whether a launcher's ``stop_data`` is that of a stop :meth:`~.engines.Engines.stop` caused."""
    return all(code in CLEAN_STOP_EXITS for code in _exits(stop_data))


class QuietStop(logging.Filter):
    """Holds back ipyparallel's log records while engines stop; each launcher's stop report decides on them.

    :meth:`watch` every launcher once it has started (after its cluster's own ``on_stop`` callback, so that
    the cluster's line about the stop is logged before this one runs). ``with quiet:`` around the stop.
    """

    def __init__(self, log: logging.Logger):
        super().__init__()
        self.log = log
        self.holding = False
        self.held: list[logging.LogRecord] = []
        self.shown: list[logging.LogRecord] = []
        self._lock = threading.Lock()

    def watch(self, launcher) -> None:
        launcher.on_stop(self._stopped)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        with self._lock:
            if not self.holding:
                return True
            self.held.append(record)
            return False

    def _stopped(self, stop_data) -> None:
        """A launcher's stop: the records held since the last one are its own (its output, its cluster's line)."""
        with self._lock:
            mine, self.held = self.held, []
            if not clean(stop_data):
                self.shown += mine

    def __enter__(self) -> "QuietStop":
        with self._lock:
            self.holding, self.held, self.shown = True, [], []
        self.log.addFilter(self)
        return self

    def __exit__(self, *exc) -> None:
        self.log.removeFilter(self)
        with self._lock:
            self.holding = False
            shown, self.held, self.shown = self.shown, [], []
        for record in shown:
            self.log.handle(record)


def launched_groups(launcher) -> list[int]:
    """The process groups an ipyparallel engine-set launcher started here: each engine's leash (a set of local
    engines), or the leash of its ``mpiexec``; a leash leads a process group of its own (:mod:`.leash`)."""
    children = getattr(launcher, "launchers", None)
    if children:
        return [el.pid for el in children.values() if getattr(el, "pid", -1) > 0]
    return [launcher.pid] if getattr(launcher, "pid", -1) > 0 else []


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def wait_gone(groups: list[int], *, until: float, poll: float = 0.05) -> bool:
    """Wait until no process of ``groups`` is left, or the monotonic clock passes ``until``; whether none is."""
    while any(map(group_alive, groups)):
        if time.monotonic() >= until:
            return False
        time.sleep(poll)
    return True


def sweep(groups: list[int], *, until: float) -> None:
    """Give each process group until ``until`` to end, then SIGKILL what is left of it."""
    for pgid in groups:
        if not wait_gone([pgid], until=until):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass


__all__ = ["CLEAN_STOP_EXITS", "QuietStop", "clean", "launched_groups", "group_alive", "wait_gone", "sweep"]
