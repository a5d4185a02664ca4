"""Faults on a lab of eight: one node's sshd killed, one node's cable pulled, one node frozen.

Every cluster operation and CLI call returns (it does not hang) with failed
rows naming the reason for those three and good rows for the other five. How
fast a down node fails against the connect timeout is a figure, not a test:
``benchmarks/bench_faults.py`` prints it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import pytest

import clusterkit.lab
from clusterkit.lab import procs
from labnames import LAB_MARKS, lab_name
from waiting import returns

pytestmark = LAB_MARKS

NAME = lab_name("tflt")
TIMEOUT = 2.0          #: the connect timeout the tests use
#: Seconds an operation may take before the test calls it hung: far above any plausible time (it returns
#: within about the connect timeout), so that only a hang fails, never a loaded machine.
HANG = 120.0
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


def returned(operation):
    """``operation()``'s result; the test fails, rather than hangs, if it has not returned within HANG."""
    return returns(operation, HANG, f"an operation with a connect timeout of {TIMEOUT:g} s")


def _check(result, *, warm: bool = False):
    assert set(result.failed) == BAD, result.text()
    assert len(result.succeeded) == 5
    killed = result[KILLED]
    if killed.error.endswith(REFUSED):
        assert killed.status == "unreachable", killed
    else:
        assert warm and killed.error.startswith(DROPPED), killed.error
    for n in (UNPLUGGED, FROZEN):
        assert result[n].status in ("timeout", "unreachable"), result[n]
        if result[n].status == "timeout" and not warm:    # the connect timeout asked for, not the system's
            assert f"within {TIMEOUT:g} s" in result[n].error, result[n].error
    for n in BAD:
        assert result[n].error, f"{n} failed without a reason"


@pytest.mark.parametrize("op", ["run", "sudo", "read_file"])
def test_cold_connections(lab, faults, op):
    with lab.connect(connect_timeout=TIMEOUT) as c:
        if op == "run":
            r = returned(lambda: c.run("hostname"))
        elif op == "sudo":
            r = returned(lambda: c.sudo("id -u"))
        else:
            r = returned(lambda: c.read_file("/etc/hostname"))
        _check(r)


def test_warm_connections(lab, warm, faults):
    _check(returned(lambda: warm.run("hostname")), warm=True)


def test_put_on_warm_connections(lab, warm, faults, tmp_path):
    src = tmp_path / "f.txt"
    src.write_text("hello\n")
    _check(returned(lambda: warm.put(src, "/home/pi/f.txt")), warm=True)


def test_cli_exit_status_and_rows(lab, faults):
    env = dict(os.environ, CLUSTERKIT_BACKEND="lab")
    cli = [sys.executable, "-m", "clusterkit.cli"]
    p = subprocess.run(cli + ["run", "-i", str(lab.inventory_path), "-t", str(TIMEOUT), "-b", "hostname"],
                       env=env, capture_output=True, text=True, timeout=HANG)     # the hang guard
    assert p.returncode == 3, p.stdout + p.stderr
    for n in BAD:
        assert n in p.stdout + p.stderr
    assert "raspberrypi" in p.stdout
