"""Faults on a lab of eight: one node's sshd killed, one node's cable pulled, one node frozen; and one
node's cable pulled while a command without a timeout runs on it.

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
import uuid

import pytest

import clusterkit.lab
from clusterkit.lab import procs
from labnames import LAB_MARKS, lab_name
from waiting import returns, wait_for

pytestmark = LAB_MARKS

NAME = lab_name("tflt")
TIMEOUT = 2.0          #: the connect timeout the tests use
#: Seconds an operation may take before the test calls it hung: far above any plausible time (it returns
#: within about the connect timeout), so that only a hang fails, never a loaded machine.
HANG = 120.0
KILLED, UNPLUGGED, FROZEN = f"{NAME}1", f"{NAME}4", f"{NAME}6"
BAD = {KILLED, UNPLUGGED, FROZEN}
MID = f"{NAME}7"       #: unplugged while its command runs, then plugged back in


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


def test_a_node_unplugged_while_its_command_runs_fails_its_row(lab, warm):
    """A board that loses its cable (or its power, or its kernel) mid-command sends nothing more, not even a
    FIN; a command without a timeout on it fails its row once nothing has been acknowledged for the connect
    timeout, instead of waiting for ever (a guest kernel that panicked under TCG once hung a VM test so)."""
    started = f"/tmp/clusterkit-mid-{uuid.uuid4().hex}"
    veth = lab.names.wifi_veth(lab.boards[MID].index)
    plugged = True
    try:
        def run_and_unplug():
            nonlocal plugged
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(1) as pool:
                running = pool.submit(warm.run, f"touch {started}; sleep 600", nodes=[MID])
                wait_for(lambda: lab.exec(MID, f"test -e {started}").returncode == 0, HANG, "the command to start")
                subprocess.run(["ip", "link", "set", veth, "down"], check=True)
                plugged = False
                return running.result()
        r = returned(run_and_unplug)[MID]
    finally:
        if not plugged:
            subprocess.run(["ip", "link", "set", veth, "up"], check=True)
        lab.exec(MID, f"rm -f {started}")
    assert r.status == "timeout" and "stopped answering" in r.error, r
