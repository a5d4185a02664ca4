"""The booth on the lab: time from a touch to the first tile and to the whole picture, one node against all.

    python benchmarks/bench_booth.py [--nodes 4] [--runs 5] [--name kiosa]      (root: it brings a lab up)

A lab of ``--nodes`` nodes (set up as notebooks 01-03 leave it), one engine per
node, the booth page without a browser (``page=False``: the kernel's side, from
the call a touch makes to the tile handed to the page). The same region (two
touches deep, so a tile is real work) is drawn ``--runs`` times on the first node
alone and on all nodes; medians are printed. No asserts: figures only. The lab
is taken down at the end unless it was already up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import clusterkit.lab
from clusterkit import workbook
from clusterkit.booth import Booth
from clusterkit.booth.fractal import HOME

#: Two touches deep into the set's edge: most pixels take many iterations.
REGION = HOME.zoom(-0.745, 0.12).zoom(-0.7436, 0.1318)


def measure(booth: Booth, nodes, runs: int) -> tuple[float, float]:
    firsts, wholes = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        booth.draw(REGION, nodes=nodes, counted=False).join()
        report = booth.drawing.reports[-1]
        assert report.complete, report.error
        firsts.append(report.started + report.first_tile - t0)
        wholes.append(report.started + report.seconds - t0)
    return statistics.median(firsts), statistics.median(wholes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--name", default="kiosa", help="the lab's name")
    args = parser.parse_args()
    was_up = clusterkit.lab.find(args.name) is not None and clusterkit.lab.find(args.name).running
    with tempfile.TemporaryDirectory() as state:
        os.environ["CLUSTERKIT_STATE"] = state
        lab = clusterkit.lab.up(n=None if was_up else args.nodes, name=args.name)
        try:
            with lab.connect() as c:
                workbook.reapply(c, "01_users", "02_network", "03_keys").save_inventory()
            with lab.connect() as cluster, cluster.engines(per_node=1) as engines:
                booth = Booth(cluster, engines=engines, page=False, idle=3600).start()
                try:
                    while not booth.ready:
                        time.sleep(0.1)
                    first = cluster.nodes[cluster.inventory.primary].name
                    one = measure(booth, [first], args.runs)
                    everyone = measure(booth, None, args.runs)
                finally:
                    booth.close()
                note = engines.map.note
        finally:
            if not was_up:
                clusterkit.lab.down(name=args.name)
    n = len(cluster)
    print(f"booth on lab {args.name} ({n} nodes, one engine each), {len(booth.drawing.reports[-1].done)} tiles, "
          f"median of {args.runs}: seconds from the touch")
    print(f"  {'nodes':<10} {'first tile':>11} {'whole picture':>14}")
    print(f"  {'1':<10} {one[0]:>9.2f} s {one[1]:>12.2f} s")
    print(f"  {n:<10} {everyone[0]:>9.2f} s {everyone[1]:>12.2f} s")
    print(f"  speedup of the whole picture: {one[1] / everyone[1]:.2f}x")
    if note:
        print(f"  ({note})")


if __name__ == "__main__":
    main()
