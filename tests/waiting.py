"""Waiting in tests for something to happen: on the thing itself, never for a fixed time.

A fixed sleep is either too short on a loaded machine (the test flakes) or too
long everywhere else; a wait on the thing returns as soon as it is true and
fails, saying what it waited for, only after a bound far above any plausible
time (a hang guard, not a speed check: speeds belong in ``benchmarks/``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from typing import Callable, TypeVar

T = TypeVar("T")

#: How often the predicate is asked.
INTERVAL = 0.05


def wait_for(predicate: Callable[[], T], timeout: float, what: str | Callable[[], str], *,
             interval: float = INTERVAL) -> T:
    """Ask ``predicate`` until it returns something true and return that; after ``timeout`` seconds
    fail the test, naming ``what`` it waited for (a callable: asked only then, for what to show)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what() if callable(what) else what}")
        time.sleep(interval)


def returns(call: Callable[[], T], timeout: float, what: str) -> T:
    """``call()``'s value; fail the test, rather than hang it, when it has not returned within ``timeout``
    seconds (a bound far above any plausible time: a hang guard). An exception ``call`` raises is raised here."""
    out: list = []

    def run() -> None:
        try:
            out.append((True, call()))
        except BaseException as e:   # handed to the test's thread
            out.append((False, e))
    worker = threading.Thread(target=run, daemon=True, name="test-hang-guard")
    worker.start()
    worker.join(timeout)
    if not out:
        raise AssertionError(f"{what} had not returned after {timeout:g} s: it hangs")
    ok, value = out[0]
    if not ok:
        raise value
    return value


def end_group(proc: subprocess.Popen, grace: float) -> None:
    """End the process group ``proc`` leads (a server a test started with ``start_new_session``): SIGTERM,
    then SIGKILL when it has not ended within ``grace`` seconds; one already gone is fine."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
