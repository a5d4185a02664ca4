"""What TCP_NODELAY on the SSH socket (``backends/sshsocket.send_at_once``) saves per command, on a lab.

    python benchmarks/bench_ssh_socket.py [--rounds 3] [--name bsock]   (needs root: it brings up a lab of 4)

In each round, first without TCP_NODELAY (paramiko's default), then with it: a fresh connection to every node,
then 30 commands (``true``) one after another on the primary, and 10 ``hostname`` on all four nodes at once.
Prints the median wall time of each and their ratio. No asserts: figures only.
"""

from __future__ import annotations

import argparse
import statistics
import time

import clusterkit.lab
from clusterkit.backends import sshsocket


def measure(lab, *, at_once: bool) -> tuple[list[float], list[float]]:
    real = sshsocket.send_at_once
    sshsocket.send_at_once = real if at_once else (lambda transport: None)
    try:
        one, every = [], []
        with lab.connect() as c:
            assert c.run("true").ok                  # every connection open before the clock starts
            primary = c.inventory.primary
            for _ in range(30):
                t0 = time.perf_counter()
                assert c.run("true", nodes=[primary])[primary].ok
                one.append(time.perf_counter() - t0)
            for _ in range(10):
                t0 = time.perf_counter()
                assert c.run("hostname").ok
                every.append(time.perf_counter() - t0)
        return one, every
    finally:
        sshsocket.send_at_once = real


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--name", default="bsock")
    args = ap.parse_args()
    lab = clusterkit.lab.up(n=4, name=args.name)
    try:
        times = {False: ([], []), True: ([], [])}
        for _ in range(args.rounds):
            for at_once in (False, True):
                one, every = measure(lab, at_once=at_once)
                times[at_once][0].extend(one)
                times[at_once][1].extend(every)
    finally:
        clusterkit.lab.down(name=args.name)
    for i, what in enumerate(("`true` on one node", "`hostname` on 4 nodes at once")):
        before, after = (statistics.median(times[k][i]) * 1000 for k in (False, True))
        print(f"{what:<32} Nagle (paramiko's default) {before:6.1f} ms   TCP_NODELAY {after:6.1f} ms   "
              f"ratio {before / after:4.1f}x   (medians of {len(times[True][i])})")


if __name__ == "__main__":
    main()
