"""Faults on a lab of eight: one node's sshd killed, one node's cable pulled, one node frozen.

Every cluster operation and CLI call returns within the connect timeout plus
a second (a bound, generous to a loaded machine, not a speed check), with
failed rows naming the reason for those three and good rows for the other five.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import clusterkit.lab
from clusterkit.lab import procs
from marks import LAB
from labnames import lab_name

pytestmark = LAB

NAME = lab_name("tflt")
TIMEOUT = 2.0          #: the connect timeout the tests use
SLACK = 1.0            #: the second the issue allows
KILLED, UNPLUGGED, FROZEN = f"{NAME}1", f"{NAME}4", f"{NAME}6"
BAD = {KILLED, UNPLUGGED, FROZEN}


def _node_pids(lab, name: str) -> list[int]:
    sup = lab.boards[name].supervisor
    return procs.descendants(sup.pid)


@pytest.fixture(scope="module")
def lab():
    running = clusterkit.lab.up(n=8, name=NAME)
    try:
        yield running
    finally:
        for pid in _node_pids(running, FROZEN):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        clusterkit.lab.down(name=NAME)


@pytest.fixture(scope="module")
def warm(lab):
    """A cluster whose connections to all eight nodes were opened before the faults."""
    with lab.connect(connect_timeout=TIMEOUT) as c:
        assert c.run("true").ok
        yield c


@pytest.fixture(scope="module")
def faults(lab, warm):
    lab.exec(KILLED, "kill $(pidof sshd)")      # the listener and every session of this node
    index = lab.boards[UNPLUGGED].index
    subprocess.run(["ip", "link", "set", lab.names.wifi_veth(index), "down"], check=True)
    for pid in _node_pids(lab, FROZEN):
        os.kill(pid, signal.SIGSTOP)
    yield


#: What the node whose sshd was killed says: a new connection is refused; a connection opened
#: before the kill is found dead when used (then reopened and refused, or reported as dropped).
REFUSED = "refused the connection (is sshd running?)"
DROPPED = ("the connection stopped answering", "the connection broke")


def _check(result, elapsed: float, *, warm: bool = False):
    assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"
    assert set(result.failed) == BAD, result.text()
    assert len(result.succeeded) == 5
    killed = result[KILLED]
    if killed.error.endswith(REFUSED):
        assert killed.status == "unreachable", killed
    else:
        assert warm and killed.error.startswith(DROPPED), killed.error
    assert result[UNPLUGGED].status in ("timeout", "unreachable")
    assert result[FROZEN].status in ("timeout", "unreachable")
    for n in BAD:
        assert result[n].error, f"{n} failed without a reason"


@pytest.mark.parametrize("op", ["run", "sudo", "read_file"])
def test_cold_connections(lab, faults, op):
    with lab.connect(connect_timeout=TIMEOUT) as c:
        t0 = time.monotonic()
        if op == "run":
            r = c.run("hostname")
        elif op == "sudo":
            r = c.sudo("id -u")
        else:
            r = c.read_file("/etc/hostname")
        _check(r, time.monotonic() - t0)


def test_warm_connections(lab, warm, faults):
    t0 = time.monotonic()
    r = warm.run("hostname")
    _check(r, time.monotonic() - t0, warm=True)


def test_put_on_warm_connections(lab, warm, faults, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("hello\n")
    t0 = time.monotonic()
    r = warm.put(src, "/home/pi/f.txt")
    _check(r, time.monotonic() - t0, warm=True)


def test_cli_exit_status_and_rows(lab, faults):
    env = dict(os.environ, CLUSTERKIT_BACKEND="lab")
    cli = [sys.executable, "-m", "clusterkit.cli"]
    t0 = time.monotonic()
    subprocess.run(cli + ["nodes", "-i", str(lab.inventory_path)], env=env, capture_output=True, check=True)
    startup = time.monotonic() - t0          # the interpreter and imports, no network
    t0 = time.monotonic()
    p = subprocess.run(cli + ["run", "-i", str(lab.inventory_path), "-t", str(TIMEOUT), "-b", "hostname"],
                       env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - t0
    assert p.returncode == 3, p.stdout + p.stderr
    assert elapsed < startup + TIMEOUT + SLACK, f"took {elapsed:.2f} s (start-up alone {startup:.2f} s)"
    for n in BAD:
        assert n in p.stdout + p.stderr
    assert "raspberrypi" in p.stdout
