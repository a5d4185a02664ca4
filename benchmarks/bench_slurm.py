"""Slurm on lab nodes: how long from ``sbatch`` to the job running, and from ``srun`` to its first line; how many
short jobs a second the controller accepts and finishes, without and with accounting (slurmdbd and MariaDB).

    python benchmarks/bench_slurm.py [--runs 10] [--nodes 4] [--jobs 500] [--lab NAME]   (root: it brings a lab up)

A lab set up as notebooks 01-04 leave it, then ``steps.Slurm``; or, with ``--lab``,
a running lab where Slurm already runs (nothing is brought up or down; keep the CLUSTERKIT_STATE it was
set up with). Timed on
the primary (the login node) by a small Python program, so SSH to the workbook
adds nothing: ``sbatch`` until the job's first command has run (it writes the
time into the shared folder), and ``srun -N NODES`` until its first line of
output arrives. Medians (and min, max) over ``--runs``. Then ``--jobs`` short jobs (``sbatch --wrap=true``),
submitted one after another from the primary: submissions a second, and jobs a second from the first
submission to the last job's end; once as notebook 10 leaves Slurm (no accounting), once with
``accounting=True`` (notebook 11), and the difference per job. No asserts: figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile

import clusterkit.lab
from clusterkit import workbook
from clusterkit.compute import slurm
from clusterkit.steps import Nfs, Slurm

#: Runs on the primary as the cluster's user: one sbatch and one srun, timed there; prints JSON.
PROBE = r"""
import json, os, subprocess, sys, time
nodes, folder = int(sys.argv[1]), sys.argv[2]
mark = os.path.join(folder, f"bench-{os.getpid()}-{time.time_ns()}.start")
t0 = time.time()
job = subprocess.run(["sbatch", "--parsable", "-o", "/dev/null", f"--wrap=python3 -c 'import time; "
                      f"open(\"{mark}\", \"w\").write(repr(time.time()))'"], capture_output=True, text=True,
                     check=True).stdout.strip()
while not os.path.exists(mark) or not open(mark).read():
    time.sleep(0.01)
started = float(open(mark).read()) - t0
os.remove(mark)
t0 = time.time()
p = subprocess.Popen(["srun", "-N", str(nodes), "hostname"], stdout=subprocess.PIPE, text=True)
p.stdout.readline()
first = time.time() - t0
p.wait()
print(json.dumps({"sbatch": started, "srun": first, "job": job}))
"""


#: Runs on the primary as the cluster's user: N short jobs submitted one after another, then waited for; JSON.
BURST = r"""
import json, subprocess, sys, time
n = int(sys.argv[1])
t0 = time.time()
for _ in range(n):
    subprocess.run(["sbatch", "-Q", "-o", "/dev/null", "-J", "burst", "--wrap=true"], check=True)
accepted = time.time() - t0
while subprocess.run(["squeue", "-h", "-n", "burst", "-o", "%i"], capture_output=True, text=True).stdout.strip():
    time.sleep(0.05)
print(json.dumps({"accepted": accepted, "finished": time.time() - t0}))
"""


def burst(cluster, jobs: int) -> dict[str, float] | None:
    python = cluster.inventory.python
    r = slurm.run(cluster, f"{python} - {jobs} <<'EOF'\n{BURST}\nEOF", timeout=60 + jobs)
    row = next(iter(r.values()))
    if not row.ok:
        print("  burst failed:", row.summary())
        return None
    return json.loads(row.stdout.strip().splitlines()[-1])


def show_burst(label: str, jobs: int, got: dict[str, float] | None) -> None:
    if got is None:
        print(f"{label:<34} failed")
        return
    print(f"{label:<34} {jobs / got['accepted']:6.1f} submissions/s   {jobs / got['finished']:6.1f} jobs/s "
          f"finished ({got['finished']:.1f} s for {jobs})")


def measure(cluster, runs: int) -> dict[str, list[float]]:
    python = cluster.inventory.python
    n = len(cluster)
    out = {"sbatch": [], "srun": []}
    for _ in range(runs):
        r = slurm.run(cluster, f"{python} - {n} /srv/shared <<'EOF'\n{PROBE}\nEOF", timeout=120)
        row = next(iter(r.values()))
        if not row.ok:
            print("  run failed:", row.summary())
            continue
        got = json.loads(row.stdout.strip().splitlines()[-1])
        out["sbatch"].append(got["sbatch"])
        out["srun"].append(got["srun"])
    return out


def show(label: str, values: list[float]) -> None:
    if not values:
        print(f"{label:<34} no successful run")
        return
    ms = [1000 * v for v in values]
    print(f"{label:<34} median {statistics.median(ms):7.0f} ms   min {min(ms):6.0f}   max {max(ms):6.0f}   "
          f"({len(ms)} runs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=500, help="short jobs for the throughput figures (0: skip them)")
    ap.add_argument("--lab", help="a running lab with Slurm (not brought up or down)")
    ap.add_argument("--name", default="bslurm", help="the name of the lab it brings up (default bslurm)")
    args = ap.parse_args()
    os.environ.setdefault("CLUSTERKIT_STATE", tempfile.mkdtemp(prefix="bench-slurm-"))
    name = args.lab or args.name
    lab = clusterkit.lab.find(name) if args.lab else clusterkit.lab.up(n=args.nodes, name=name)
    try:
        if not args.lab:
            with lab.connect() as c:
                workbook.reapply(c, "01_users", "02_network").save_inventory()
            with lab.connect() as c:
                for step in (Nfs(c, owner="alice"), Slurm(c)):
                    result = step.apply(progress=False)
                    if not result.ok:
                        raise SystemExit(result.text())
        with lab.connect() as c:
            print(f"Slurm on lab {name}: {len(c)} nodes, {args.runs} runs, timed on {c.primary.name}")
            got = measure(c, args.runs)
        show("sbatch -> the job's first command", got["sbatch"])
        show(f"srun -N {len(lab.boards)} -> its first line", got["srun"])
        if args.jobs > 0:
            with lab.connect() as c:
                off = burst(c, args.jobs) if not args.lab else None
                if not args.lab:
                    show_burst("no accounting", args.jobs, off)
                acct = Slurm(c, accounting=True).apply(progress=False)
                if not acct.ok:
                    raise SystemExit(acct.text())
                on = burst(c, args.jobs)
                show_burst("accounting (slurmdbd, MariaDB)", args.jobs, on)
                if off and on:
                    print(f"{'accounting adds per job':<34} {1000 * (on['finished'] - off['finished']) / args.jobs:6.1f} ms "
                          f"(submission {1000 * (on['accepted'] - off['accepted']) / args.jobs:.1f} ms)")
    finally:
        if not args.lab:
            clusterkit.lab.down(name=name)


if __name__ == "__main__":
    main()
