"""Computing through clusterkit: what it costs over raw ipyparallel, and how well it uses the cores.

    python benchmarks/bench_compute.py [--runs 5] [--calls 300]

On the local backend, one engine per core of this machine (one node each):

1. per-task round trip of a no-op ``apply_sync``: through clusterkit (``engines.view(node)``,
   a view looked up by node on every call) against raw ipyparallel (``client[id]``) on the same
   engine; the two alternate call by call, and each is the median of single calls (runs x calls of
   them), so drift and a shared machine's pauses hit both alike. Target ratio <= 1.05.
2. π samples per second of one engine against numpy in this process (same seed, same count).
   Target >= 0.95.
3. parallel efficiency of π on all cores: one-engine time / (cores x all-engine time).
   Target >= 90 %. The same is measured for plain processes (a multiprocessing pool, no
   ipyparallel), interleaved run by run, because on a shared virtual machine the cores
   themselves do not always scale: that figure is the ceiling, and the CPU time stolen by
   the host during the runs is printed beside it.

Every figure is a median of several runs. No asserts: figures only.
"""

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time

import clusterkit
from clusterkit import workloads
from clusterkit.inventory import parse_inventory

PI_SAMPLES = 60_000_000


def per_call(fn, calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def round_trip(engines, *, runs: int, calls: int) -> tuple[float, float]:
    """Median seconds of one call each way; the two alternate call by call, so that drift and the odd
    pause of a shared machine hit both alike, and the median of single calls is not moved by a few slow ones."""
    node = engines.map.nodes[0]
    (eid,) = engines.map.ids(node)
    client = engines.client
    via_clusterkit = lambda: engines.view(node).apply_sync(workloads.noop)  # noqa: E731
    raw = lambda: client[eid].apply_sync(workloads.noop)  # noqa: E731
    per_call(raw, 50), per_call(via_clusterkit, 50)  # warm both paths
    ck, ipp = [], []
    for i in range(runs * calls):
        for fn, times in ((via_clusterkit, ck), (raw, ipp)) if i % 2 else ((raw, ipp), (via_clusterkit, ck)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(ck), statistics.median(ipp)


def interleaved(fns, runs: int) -> list[float]:
    """Median seconds of each function, run in turn ``runs`` times, so that drift hits them all."""
    for f in fns:
        f()  # warm
    times = [[] for _ in fns]
    for _ in range(runs):
        for f, ts in zip(fns, times):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    inv = parse_inventory(f"name: bench\nnodes: b[0-{cores - 1}]\n", source="bench.yaml")
    with tempfile.TemporaryDirectory() as sandbox, \
            clusterkit.connect(inv, backend="local", sandbox=sandbox) as cluster, \
            cluster.engines(per_node=1) as engines:
        print(f"{cores} cores, {len(engines)} engines on the local backend")

        ck, raw = round_trip(engines, runs=args.runs, calls=args.calls)
        print(f"no-op apply_sync round trip: clusterkit {ck * 1e3:.3f} ms, raw ipyparallel {raw * 1e3:.3f} ms, "
              f"ratio {ck / raw:.3f} (target <= 1.05)")

        one_view = engines.client[engines.ids()[:1]]
        local, engine = interleaved([lambda: workloads.pi_samples(PI_SAMPLES),
                                     lambda: workloads.estimate_pi(one_view, samples=PI_SAMPLES)], args.runs)
        print(f"π samples/s: numpy here {PI_SAMPLES / local / 1e6:.1f} M/s, one engine "
              f"{PI_SAMPLES / engine / 1e6:.1f} M/s, ratio {local / engine:.3f} (target >= 0.95)")

        all_view = engines.view()
        big = PI_SAMPLES * cores
        one_engine = lambda: workloads.estimate_pi(one_view, samples=big)  # noqa: E731
        all_engines = lambda: workloads.estimate_pi(all_view, samples=big)  # noqa: E731
        with multiprocessing.get_context("fork").Pool(cores) as pool:
            one_proc = lambda: pool.starmap(workloads.pi_samples, [(big,)])  # noqa: E731
            all_procs = lambda: pool.starmap(workloads.pi_samples, [(n,) for n in workloads.shares(big, cores)])  # noqa: E731
            steal0 = stolen()
            e1, en, p1, pn = interleaved([one_engine, all_engines, one_proc, all_procs], args.runs)
            steal = stolen() - steal0
        m = {"e1": e1, "en": en, "p1": p1, "pn": pn}
        print(f"π on all {cores} cores: 1 engine {m['e1']:.2f} s, {cores} engines {m['en']:.2f} s, "
              f"efficiency {m['e1'] / (cores * m['en']):.1%} (target >= 90%)")
        print(f"  ceiling, plain processes: 1 {m['p1']:.2f} s, {cores} {m['pn']:.2f} s, "
              f"efficiency {m['p1'] / (cores * m['pn']):.1%}; engines relative to it "
              f"{(m['e1'] / m['en']) / (m['p1'] / m['pn']):.1%}; CPU time stolen by the host {steal:.1f} s")


def stolen() -> float:
    """Seconds of CPU time the hypervisor took from this machine (``steal`` in /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0

if __name__ == "__main__":
    main()
