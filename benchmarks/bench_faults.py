"""How long a node that is down takes to fail, against the timeout that was asked for.

    python benchmarks/bench_faults.py [--runs 5] [--timeout 2] [--name bflt]   (the lab part needs root)

The figures that tests/lab/test_faults.py and tests/unit/test_local_backend.py
used to assert (a loaded machine made them flake; the tests now check only that
the rows fail with the right reason and that nothing hangs):
- local backend: a command that would run for a minute, with a command timeout
  of 0.3 s: the median time until ``cluster.run`` returns the killed row;
- lab of eight (root): one node's sshd killed, one node's cable pulled, one
  node frozen (SIGSTOP), as in the test; a cold ``cluster.run("hostname")`` with
  ``--timeout`` as the connect timeout: the median time until the whole result
  is back, and each down node's own median, against that timeout;
- lab of three (root), one node off (tests/compute/test_lab_engines.py):
  ``cluster.engines(timeout=60)``: the median time until the start fails on
  that node (the test only bounds it, far under the 60 s it must not wait out).
Prints medians of ``--runs`` runs. No asserts: figures only.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time

import clusterkit
import clusterkit.lab
from clusterkit.compute import ComputeError
from clusterkit.lab import check, procs


def local_command_timeout(runs: int, timeout: float = 0.3) -> float:
    times = []
    with tempfile.TemporaryDirectory() as sandbox:
        with clusterkit.connect(backend="local", sandbox=sandbox) as c:
            for _ in range(runs):
                t0 = time.perf_counter()
                r = c.run("sleep 60", nodes="pc0", timeout=timeout)
                times.append(time.perf_counter() - t0)
                assert r["pc0"].status == "timeout", r.text()
    return statistics.median(times)


def break_three(lab, killed: str, unplugged: str, frozen: str) -> list[int]:
    """The test's three faults; returns the frozen node's processes (to SIGCONT afterwards)."""
    lab.exec(killed, "kill $(pidof sshd)")
    subprocess.run(["ip", "link", "set", lab.names.wifi_veth(lab.boards[unplugged].index), "down"], check=True)
    stopped = procs.descendants(lab.boards[frozen].supervisor.pid)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    return stopped


def lab_faults(name: str, runs: int, timeout: float) -> tuple[float, dict[str, float]]:
    lab = clusterkit.lab.up(n=8, name=name)
    bad = {"sshd killed": f"{name}1", "cable pulled": f"{name}4", "frozen": f"{name}6"}
    stopped: list[int] = []
    try:
        stopped = break_three(lab, bad["sshd killed"], bad["cable pulled"], bad["frozen"])
        whole, each = [], {what: [] for what in bad}
        for _ in range(runs):
            with lab.connect(connect_timeout=timeout) as c:
                t0 = time.perf_counter()
                r = c.run("hostname")
                whole.append(time.perf_counter() - t0)
            for what, node in bad.items():
                each[what].append(r[node].duration or 0.0)
        return statistics.median(whole), {what: statistics.median(t) for what, t in each.items()}
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        clusterkit.lab.down(name=name)


def engines_with_a_node_off(name: str, runs: int) -> float:
    """Seconds until a start of engines fails on the node that is off (median of ``runs``)."""
    with tempfile.TemporaryDirectory() as state:
        os.environ["CLUSTERKIT_STATE"] = state
        lab = clusterkit.lab.up(n=3, name=name)
        try:
            lab.prepare(keys=True)
            lab.stop_node(f"{name}2")
            times = []
            with lab.connect(connect_timeout=3) as cluster:
                for _ in range(runs):
                    t0 = time.perf_counter()
                    try:
                        cluster.engines(timeout=60).stop()
                    except ComputeError as e:
                        assert e.node == f"{name}2", e
                    else:
                        raise AssertionError("the engines started with a node off")
                    times.append(time.perf_counter() - t0)
            return statistics.median(times)
        finally:
            clusterkit.lab.down(name=name)
            del os.environ["CLUSTERKIT_STATE"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=2.0, help="the connect timeout on the lab")
    parser.add_argument("--name", default="bflt", help="the lab's name (it ends in a letter)")
    parser.add_argument("--off-name", default="boff", help="the name of the lab with a node off")
    args = parser.parse_args()
    local = local_command_timeout(args.runs)
    print(f"median of {args.runs} runs")
    print(f"local: a one-minute command with a 0.3 s timeout returned after {local:.2f} s")
    why = check.reason()
    if why is not None:
        print(f"lab: skipped ({why})")
        return
    whole, each = lab_faults(args.name, args.runs, args.timeout)
    print(f"lab of 8, connect timeout {args.timeout:g} s: the whole result in {whole:.2f} s "
          f"({whole - args.timeout:+.2f} s against the timeout)")
    for what, seconds in each.items():
        print(f"  {what:13s} node: its row after {seconds:.2f} s")
    off = engines_with_a_node_off(args.off_name, args.runs)
    print(f"lab of 3, one node off: cluster.engines(timeout=60) failed on it after {off:.2f} s")


if __name__ == "__main__":
    main()
