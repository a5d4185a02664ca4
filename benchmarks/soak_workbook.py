"""The workshop soak: the setup notebooks on a freshly brought-up lab, many times in a row, as a class would.

    python benchmarks/soak_workbook.py [--runs 10] [--name pc] [NOTEBOOK ...]   (root: it brings labs up)

Each run takes the lab down, brings it up fresh (a box of freshly imaged
boards), then executes the notebooks in order with nbval, in one pytest run,
exactly as CI does (default: 00-06 and 09, the notebooks that set a cluster up
and run it). The workbook's state (keys, known hosts) is new for every run, as
on a learner's fresh laptop. Prints one line per run (wall time, cells passed
and failed, the first failing cells) and the count of clean runs; a failed run's
whole log is kept in the folder it names. The lab is taken down at the end.
No asserts: a figure for the closing note ("10/10 clean").

The lab's name must be the default inventory's (``pc``): the notebooks name its nodes.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import clusterkit.lab

HERE = Path(__file__).resolve().parent.parent
DEFAULT = ["00_welcome", "01_users", "02_network", "03_keys", "04_nfs", "05_time", "06_operations", "09_dashboard"]


def one_run(name: str, notebooks: list[Path], logs: Path, index: int) -> tuple[bool, float, str]:
    clusterkit.lab.down(name=name)
    lab = clusterkit.lab.up(name=name)
    env = dict(os.environ, CLUSTERKIT_BACKEND="lab", CLUSTERKIT_INVENTORY=str(lab.inventory_path),
               CLUSTERKIT_STATE=tempfile.mkdtemp(prefix="soak-state-"),
               CLUSTERKIT_SANDBOX=tempfile.mkdtemp(prefix="soak-sandbox-"))
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
                           *map(str, notebooks)], cwd=HERE, env=env, capture_output=True, text=True)
    took = time.monotonic() - t0
    out = done.stdout + done.stderr
    summary = next((ln.strip("= ") for ln in reversed(out.splitlines()) if re.search(r"\d+ (passed|failed)", ln)),
                   f"pytest exit {done.returncode}")
    failed = re.findall(r"^FAILED (\S+)", out, re.M)
    clean = done.returncode == 0
    if not clean:
        log = logs / f"run-{index:02d}.log"
        log.write_text(out)
        summary += f"; first failures: {', '.join(failed[:3]) or '-'}; log {log}"
    return clean, took, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--name", default="pc", help="the lab's name (the notebooks expect pc)")
    ap.add_argument("notebooks", nargs="*", default=DEFAULT, help="notebook names, in order (default: 00-06, 09)")
    args = ap.parse_args()
    notebooks = [HERE / "notebooks" / (nb if nb.endswith(".ipynb") else nb + ".ipynb") for nb in args.notebooks]
    logs = Path(tempfile.mkdtemp(prefix="soak-logs-"))
    print(f"soak: {args.runs} runs of {', '.join(p.stem for p in notebooks)} on a fresh lab {args.name}", flush=True)
    times, clean = [], 0
    try:
        for i in range(1, args.runs + 1):
            ok, took, summary = one_run(args.name, notebooks, logs, i)
            clean += ok
            times.append(took)
            print(f"run {i:2d}: {'clean' if ok else 'FAILED'} in {took:5.1f} s  ({summary})", flush=True)
    finally:
        clusterkit.lab.down(name=args.name)
    print(f"clean runs: {clean}/{args.runs}; median run {statistics.median(times):.1f} s "
          f"(min {min(times):.1f}, max {max(times):.1f})")
    return 0 if clean == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
