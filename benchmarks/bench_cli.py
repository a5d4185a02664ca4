"""Start-up of the CLI: `clusterkit nodes` against ClusterShell's `nodeset -f`, in one run.

    python benchmarks/bench_cli.py [--runs 15] [--backend local]

Each round runs both commands once, alternately, as new processes (the
console scripts next to this Python); the medians and their ratio are
printed. `clusterkit nodes` reads the inventory, picks the backend and makes
its nodes, then lists them: all a command does before it reaches a node.
No asserts: figures only (the aim is a ratio of at most 2).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(argv: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--backend", default="local", help="the backend `clusterkit nodes` uses (default local)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CLUSTERKIT_BACKEND": args.backend, "CLUSTERKIT_SANDBOX": f"{tmp}/sandbox"}
        env.pop("CLUSTERKIT_INVENTORY", None)
        commands = {"clusterkit nodes": [str(BIN / "clusterkit"), "nodes"],
                    "nodeset -f": [str(BIN / "nodeset"), "-f", "pc[0-3]"]}
        for argv in commands.values():  # warm: files in the page cache, byte code written
            timed(argv, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(timed(argv, env))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, m in medians.items():
        print(f"{name:<18} median {m * 1000:7.1f} ms  (min {min(times[name]) * 1000:.1f}, "
              f"max {max(times[name]) * 1000:.1f}, {args.runs} runs)")
    print(f"ratio clusterkit nodes / nodeset -f: {medians['clusterkit nodes'] / medians['nodeset -f']:.2f}"
          f"  (backend {args.backend})")


if __name__ == "__main__":
    main()
