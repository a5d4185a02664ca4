"""Each kind of node says how its engines start; a stop's quiet rests on ipyparallel's stop reports, not its text."""

from __future__ import annotations

import enum
import logging
import signal

import pytest

from clusterkit.backends.platform import BOARD_PLATFORM
from clusterkit.backends.sandboxplatform import SANDBOX
from clusterkit.compute.starters import HERE, OVER_SSH, WAYS
from clusterkit.compute.stopping import QuietStop, clean
from clusterkit.lab.platform import LAB_PLATFORM


#: psutil's report of a process ended by a signal: an IntEnum of negative numbers (its ``Negsignal``).
NEGSIGNAL = enum.IntEnum("Negsignal", {"SIGKILL": -signal.SIGKILL, "SIGTERM": -signal.SIGTERM})


@pytest.mark.parametrize(("platform", "way"), [(SANDBOX, HERE), (BOARD_PLATFORM, OVER_SSH), (LAB_PLATFORM, OVER_SSH)])
def test_each_kind_of_node_chooses_its_way(platform, way):
    assert platform.start_engines(WAYS) is way


@pytest.mark.parametrize(("stop_data", "quiet"), [
    ({"exit_code": 0, "pid": 1, "identifier": "ipcontroller"}, True),     # the controller on SIGTERM
    ({"exit_code": None}, True),
    ({"exit_code": 1, "engines": {"0": {"exit_code": 1}, "1": {"exit_code": 1}}}, True),   # asked to shut down
    ({"exit_code": 143}, True),                                            # the leash's command on SIGTERM
    ({"exit_code": 15}, True),                                             # mpiexec whose ranks got SIGTERM
    ({"exit_code": NEGSIGNAL.SIGTERM}, True),
    ({"exit_code": 137}, False),                                           # killed (the leash's 128 + 9)
    ({"exit_code": NEGSIGNAL.SIGKILL}, False),                              # as psutil reports a SIGKILL
    ({"exit_code": 1, "engines": {"0": {"exit_code": 1}, "1": {"exit_code": 137}}}, False),  # one of a set
    ({"exit_code": "unknown"}, False),
    ({"exit_code": 2}, False),
])
def test_a_clean_stop_is_read_from_the_exit_codes_ipyparallel_reports(stop_data, quiet):
    assert clean(stop_data) is quiet


class FakeLauncher:
    """As ipyparallel's: ``on_stop`` callbacks are called with the stop data, after the launcher has logged."""

    def __init__(self, log: logging.Logger, name: str):
        self.log, self.name, self.callbacks = log, name, []

    def on_stop(self, f):
        self.callbacks.append(f)

    def stops(self, exit_code):
        self.log.warning("Output for %s:\n%s", self.name, "last words")
        self.log.warning(f"engine set stopped {self.name}: {{'exit_code': {exit_code}}}")
        for f in self.callbacks:
            f({"exit_code": exit_code, "identifier": self.name})


@pytest.fixture
def log():
    logger = logging.getLogger("test-quiet-stop")
    logger.propagate = False
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    handler = Keep()
    logger.addHandler(handler)
    logger.seen = seen
    yield logger
    logger.removeHandler(handler)


def test_only_a_process_that_ended_otherwise_is_shown_with_its_output(log):
    quiet = QuietStop(log)
    asked, killed, late = FakeLauncher(log, "pc0"), FakeLauncher(log, "pc1"), FakeLauncher(log, "pc2")
    for launcher in (asked, killed, late):
        quiet.watch(launcher)
    with quiet:
        asked.stops(1)
        killed.stops(-9)
        log.warning("Process 42 did not exit in 3 seconds after TERM")   # chatter with no stop report after it
        assert log.seen == []                                            # nothing while the stop runs
    assert log.seen == ["Output for pc1:\nlast words", "engine set stopped pc1: {'exit_code': -9}"]
    late.stops(1)                              # outside a stop, ipyparallel's log is left alone
    assert log.seen[2:] == ["Output for pc2:\nlast words", "engine set stopped pc2: {'exit_code': 1}"]


def test_errors_are_never_held(log):
    with QuietStop(log):
        log.error("the controller failed")
        assert log.seen == ["the controller failed"]
