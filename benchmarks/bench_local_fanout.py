"""Fan-out on the local backend: `true` on 4 and on 32 nodes.

    python benchmarks/bench_local_fanout.py [--runs 15]

Prints the median wall time of several runs for each size and the ratio
32/4. Each run is a whole `cluster.run("true")`: starting one shell per node,
waiting for all, building the ClusterResult. No asserts: figures only.
"""

import argparse
import statistics
import tempfile
import time

import clusterkit
from clusterkit.inventory import parse_inventory


def cluster_of(n: int, sandbox: str) -> clusterkit.Cluster:
    inv = parse_inventory(f"name: bench{n}\nnodes: n[0-{n - 1}]\n", source=f"bench{n}.yaml")
    return clusterkit.connect(inv, backend="local", sandbox=sandbox)


def median_run(cluster: clusterkit.Cluster, runs: int) -> float:
    cluster.run("true")  # warm: sandboxes exist, caches are hot
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = cluster.run("true")
        times.append(time.perf_counter() - t0)
        assert result.ok, result.text()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as sandbox:
        m4 = median_run(cluster_of(4, sandbox), args.runs)
        m32 = median_run(cluster_of(32, sandbox), args.runs)
    print(f"local fan-out of `true`, median of {args.runs} runs")
    print(f"   4 nodes: {m4 * 1000:7.1f} ms")
    print(f"  32 nodes: {m32 * 1000:7.1f} ms")
    print(f"  ratio 32/4: {m32 / m4:.2f} (8x the nodes)")


if __name__ == "__main__":
    main()
