"""Engine start-up on lab nodes: clusterkit's start over its own SSH connections, and MPI engines under mpiexec
over SSH.

    python benchmarks/bench_engines_lab.py [--runs 3] [--sizes 4 8]        (root: it brings labs up)

For each size, a lab set up as notebooks 01-03 leave it (one user, cluster
addresses, keys); then, for each way of starting, engines (one a node) started
and stopped ``--runs`` times: the median time until every engine has
registered and answered where it runs, the median stop, and the median time
until no engine process is left on any node once the workbook process that
started them is killed with SIGKILL (as nbval does to a kernel). No asserts:
figures only.

ipyparallel's own SSH launcher was measured here beside them while the library
kept it for that alone; it is gone, and so is its row (its last figures are in
:mod:`clusterkit.compute.remote`'s docstring).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import clusterkit.lab
from clusterkit import workbook
from clusterkit.compute import Engines

#: (label, Engines keyword arguments)
WAYS = [("clusterkit (own SSH connections)", {}),
        ("MPI engines (mpiexec over SSH)", {"mpi": True})]

#: A workbook stand-in: starts engines, says so, and waits to be killed.
STARTER = """
import json, sys, time
import clusterkit.lab
from clusterkit.compute import Engines
cluster = clusterkit.lab.find(sys.argv[1]).connect()
engines = Engines(cluster, **json.loads(sys.argv[2])).start()
print(len(engines), flush=True)
time.sleep(600)
"""
LEFT = "pgrep -f '[i]pyparallel|[h]ydra_pmi_proxy' | wc -l"


def left_on_nodes(cluster) -> int:
    out = cluster.run(LEFT, timeout=30)
    return sum(int(r.stdout.strip() or 0) for r in out.values() if r.ok)


def gone_after_kill(lab, cluster, kwargs: dict, limit: float = 90.0) -> float:
    """Seconds from SIGKILL of the starting process until no engine process is left on any node."""
    starter = subprocess.Popen([sys.executable, "-c", STARTER, lab.name, json.dumps(kwargs)],
                               stdout=subprocess.PIPE, text=True)
    try:
        if not starter.stdout.readline().strip():
            raise RuntimeError("the starter did not start its engines")
    finally:
        starter.kill()
        starter.wait()
    t0 = time.perf_counter()
    while left_on_nodes(cluster) and time.perf_counter() - t0 < limit:
        time.sleep(0.25)
    return time.perf_counter() - t0


def one_size(n: int, runs: int) -> dict[str, tuple[float, float, float]]:
    name = f"be{''.join(chr(97 + int(d)) for d in str(n))}"   # a lab's name ends in a letter
    lab = clusterkit.lab.up(n=n, name=name)
    figures = {}
    try:
        with lab.connect() as c:
            workbook.reapply(c, "01_users", "02_network", "03_keys").save_inventory()
        with lab.connect() as c:
            for label, kwargs in WAYS:
                starts, stops = [], []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    engines = Engines(c, **kwargs).start()
                    starts.append(time.perf_counter() - t0)
                    assert sorted(e.node for e in engines.map.engines) == sorted(c.nodes)
                    t0 = time.perf_counter()
                    engines.stop()
                    stops.append(time.perf_counter() - t0)
                    while left_on_nodes(c) and time.perf_counter() - t0 < 60:  # the next run starts clean
                        time.sleep(0.25)
                figures[label] = (statistics.median(starts), statistics.median(stops),
                                  gone_after_kill(lab, c, kwargs))
        return figures
    finally:
        clusterkit.lab.down(name=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        os.environ["CLUSTERKIT_STATE"] = state
        figures = {n: one_size(n, args.runs) for n in args.sizes}
    print(f"engines on lab nodes, one a node: median of {args.runs} starts and stops; "
          f"gone = seconds until none is left on the nodes after SIGKILL of the starter (one run)")
    print(f"  {'nodes':>5}  {'how':<34} {'start':>8} {'stop':>8} {'gone':>8}")
    for n, rows in figures.items():
        for label, (start, stop, gone) in rows.items():
            print(f"  {n:>5}  {label:<34} {start:>6.1f} s {stop:>6.1f} s {gone:>6.1f} s")


if __name__ == "__main__":
    main()
