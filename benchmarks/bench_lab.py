"""The lab and the SSH backend: fan-out against clush and parallel-ssh, lab up/down, memory per idle node.

    python benchmarks/bench_lab.py [--runs 7] [--sizes 8 32] [--up-only]     (root: it brings labs up)

Each size is measured for both kinds of namespace lab, one after the other in the same run: the default
(every node in the lab's user namespace) and the host-root lab (``--host-root``), and their up times are
printed as a ratio. ``--up-only`` measures only up, down and memory (no fan-out tools).

For each size, one lab of that many nodes; every tool runs `hostname` on every
node with the same key (a fresh ed25519 pair authorised for pi) and the lab's
known_hosts:
- clusterkit cold: a new Cluster each run (new SSH connections);
- clusterkit warm: one Cluster, connections kept between runs;
- clush (ClusterShell) and parallel-ssh (Debian's pssh): OpenSSH processes.
Prints the median wall time of several runs and the ratios the issue asks for
(cold no slower than clush; warm at least 5x faster than clush; warm 8 -> 32 at
most 2x), the lab's up and down times, and Pss/Rss per idle node. No asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import clusterkit
import clusterkit.lab
from clusterkit.backends import ssh
from clusterkit.lab import kinds, ns


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def authorise(lab, state: Path) -> Path:
    """One key pair for pi, kept where the SSH backend looks (the cluster's state dir) and authorised on every node."""
    key = ssh.state_dir(lab.inventory()) / "id_ed25519_pi"
    key.parent.mkdir(parents=True, exist_ok=True)
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    pub = key.with_name(key.name + ".pub").read_text()
    with lab.connect() as c:
        r = c.run("umask 077; mkdir -p ~/.ssh; cat > ~/.ssh/authorized_keys", stdin=pub)
        assert r.ok, r.text()
    return key


def ssh_options(lab, key: Path) -> list[str]:
    return ["-F", "/dev/null", "-i", str(key), "-o", f"UserKnownHostsFile={lab.known_hosts_path}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "PasswordAuthentication=no",
            "-o", "ConnectTimeout=10"]


def one_size(n: int, runs: int, kind: str, up_only: bool = False) -> dict:
    name = f"bf{''.join(chr(97 + int(d)) for d in str(n))}"   # a lab's name ends in a letter
    t0 = time.perf_counter()
    lab = clusterkit.lab.up(n=n, name=name, kind=kind)
    up = time.perf_counter() - t0
    out: dict = {}
    try:
        time.sleep(1.0)
        memory = lab.memory()
        out = {"up": up, "pss": statistics.median(m["pss"] for m in memory.values()),
               "rss": statistics.median(m["rss"] for m in memory.values()),
               "procs": statistics.median(m["processes"] for m in memory.values())}
        if not up_only:
            out.update(fan_out(lab, runs))
    finally:
        t0 = time.perf_counter()
        clusterkit.lab.down(name=name)
        out["down"] = time.perf_counter() - t0
    return out


def fan_out(lab, runs: int) -> dict:
    """Median times of `hostname` on every node of ``lab``: clusterkit cold and warm, clush, parallel-ssh."""
    key = authorise(lab, Path(os.environ["CLUSTERKIT_STATE"]))
    hosts = [b.host for b in lab.boards.values()]
    opts = ssh_options(lab, key)
    inv = lab.inventory_path

    def cold():
        with clusterkit.connect(inv, backend="lab") as c:
            assert c.run("hostname").ok

    warm_cluster = clusterkit.connect(inv, backend="lab")
    assert warm_cluster.run("hostname").ok

    def warm():
        assert warm_cluster.run("hostname").ok

    clush_cmd = ["clush", "-f", "64", "-l", "pi", "-o", " ".join(opts), "-w", ",".join(hosts), "hostname"]
    with tempfile.NamedTemporaryFile("w", suffix=".hosts", delete=False) as f:
        f.write("".join(f"pi@{h}\n" for h in hosts))
    pssh_cmd = ["parallel-ssh", "-p", "64", "-h", f.name] + [x for o in opts[2:] for x in ("-x", o)] + \
        ["-x", "-F", "-x", "/dev/null", "hostname"]

    def run(cmd):
        p = subprocess.run(cmd, capture_output=True, text=True)
        assert p.returncode == 0, (cmd[0], p.stdout[-500:], p.stderr[-500:])

    out = {
        "cold": timed(cold, runs),
        "warm": timed(warm, runs * 3),
        "clush": timed(lambda: run(clush_cmd), runs),
        "pssh": timed(lambda: run(pssh_cmd), runs),
    }
    warm_cluster.close()
    os.unlink(f.name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--up-only", action="store_true", help="up, down and memory only (no fan-out tools)")
    args = parser.parse_args()
    default, host_root = kinds.default(), ns.KIND
    results: dict = {}
    with tempfile.TemporaryDirectory() as state:
        os.environ["CLUSTERKIT_STATE"] = state
        for n in args.sizes:
            for kind in (default, host_root):
                results[kind.name, n] = one_size(n, args.runs, kind.name, up_only=args.up_only)
    if not args.up_only:
        print(f"`hostname` on every node of the default lab, median of {args.runs} runs (warm: {args.runs * 3})")
        print(f"{'nodes':>6} {'ck cold':>9} {'ck warm':>9} {'clush':>9} {'pssh':>9}   cold/clush  clush/warm")
        for n in args.sizes:
            r = results[default.name, n]
            print(f"{n:>6} {r['cold'] * 1000:7.0f}ms {r['warm'] * 1000:7.0f}ms {r['clush'] * 1000:7.0f}ms "
                  f"{r['pssh'] * 1000:7.0f}ms   {r['cold'] / r['clush']:9.2f}  {r['clush'] / r['warm']:9.1f}")
        if len(args.sizes) >= 2:
            a, b = min(args.sizes), max(args.sizes)
            print(f"warm {a} -> {b} nodes: x{results[default.name, b]['warm'] / results[default.name, a]['warm']:.2f}")
    print("lab up/down and memory per idle node (median over nodes; the node's supervisor, init, sshd, dhclient)")
    for n in args.sizes:
        for kind in (default, host_root):
            r = results[kind.name, n]
            print(f"{n:>6} nodes, {kind.title:<42}: up {r['up']:.2f} s, down {r['down']:.2f} s, "
                  f"Pss {r['pss'] / 1024:.1f} MiB, Rss {r['rss'] / 1024:.1f} MiB, {r['procs']:.0f} processes")
        print(f"{n:>6} nodes: up in a user namespace / up with the host's root = "
              f"{results[default.name, n]['up'] / results[host_root.name, n]['up']:.2f}")


if __name__ == "__main__":
    main()
