"""Engine start-up on lab nodes, with ipyparallel's own SSH launcher (what clusterkit uses).

    python benchmarks/bench_engines_lab.py [--runs 3] [--sizes 4 8]        (root: it brings labs up)

For each size, a lab set up as notebooks 01-03 leave it (one user, cluster
addresses, keys), then ``cluster.engines()`` started and stopped several times:
the median time until every engine has registered and answered where it runs,
and the median stop. No asserts: figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import clusterkit.lab


def one_size(n: int, runs: int) -> tuple[float, float]:
    name = f"be{''.join(chr(97 + int(d)) for d in str(n))}"   # a lab's name ends in a letter
    lab = clusterkit.lab.up(n=n, name=name)
    try:
        lab.prepare(keys=True)
        starts, stops = [], []
        with lab.connect() as c:
            for _ in range(runs):
                t0 = time.perf_counter()
                engines = c.engines()
                starts.append(time.perf_counter() - t0)
                assert len(engines.map.engines) == n
                t0 = time.perf_counter()
                engines.stop()
                stops.append(time.perf_counter() - t0)
        return statistics.median(starts), statistics.median(stops)
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
    print(f"engines on lab nodes (ipyparallel's SSH launcher, one engine a node), median of {args.runs}")
    for n, (start, stop) in figures.items():
        print(f"  {n:>3} nodes: start {start:.1f} s, stop {stop:.1f} s")


if __name__ == "__main__":
    main()
