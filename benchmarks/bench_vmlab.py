"""The VM lab's figures: image build, boot to SSH (one board, then three together), fresh boards from their
snapshots, a reboot cycle, memory per board. Printed, never asserted.

    sudo /opt/clusterkit/venv/bin/python benchmarks/bench_vmlab.py [--runs 3] [--skip-image]

Cold boots use a scratch cache that shares the built image but none of the boards' snapshots, so every
board really boots from its card; "fresh" starts use the snapshots those boots made. Needs root and QEMU;
takes many minutes under TCG. Lab name ``bvm``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "bvm"


def clusterkit(*args: str, env: dict | None = None) -> float:
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "clusterkit.cli", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def in_scratch(code: str, cache: Path) -> str:
    env = {**os.environ, "CLUSTERKIT_VM_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True,
                          text=True).stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of the fresh start (default 3)")
    ap.add_argument("--skip-image", action="store_true", help="do not time a cold image build")
    args = ap.parse_args()
    from clusterkit.lab.vm import image, machine

    print(f"accelerator: {machine.accel().upper()}, {os.cpu_count()} cores")
    built = image.build()
    t0 = time.monotonic()
    image.build()
    print(f"image, cached: {time.monotonic() - t0:.2f} s ({built.dir.name}, built in {built.info['seconds']:.0f} s "
          f"when it was made; {built.info['used_kib'] / 1024:.0f} MiB of files, "
          f"{built.info['qcow2_bytes'] / 2**20:.0f} MiB qcow2)")
    scratch = Path(tempfile.mkdtemp(prefix="ck-bench-vm-"))
    try:
        if not args.skip_image:
            out = in_scratch("import time; from clusterkit.lab.vm import image; t=time.monotonic(); "
                             "image.build(log=lambda *a: None); print(time.monotonic()-t)", scratch / "cold")
            print(f"image, cold build (mmdebstrap, this machine's apt sources): {float(out):.0f} s")
        cache = scratch / "cache"
        cache.mkdir()
        (cache / built.dir.name).symlink_to(built.dir)
        env = {**os.environ, "CLUSTERKIT_VM_CACHE": str(cache)}
        clusterkit("lab", "down", "--name", NAME)
        cold = {}
        for n in (1, 3):
            shutil.rmtree(cache / "boards", ignore_errors=True)
            cold[n] = clusterkit("lab", "up", "--vm", "-n", str(n), "--name", NAME, env=env)
            if n == 3:
                mem = json.loads(in_scratch(
                    f"import json, clusterkit.lab as l; print(json.dumps(l.find({NAME!r}).memory()))", cache))
            clusterkit("lab", "down", "--name", NAME)
            print(f"first boot to SSH, {n} board{'s' * (n > 1)} together (card, cloud-init, host keys, "
                  f"snapshot): {cold[n]:.0f} s")
        print(f"three together / one: {cold[3] / cold[1]:.2f}x")
        rss = [m["rss"] / 1024 for m in mem.values()]
        print(f"memory per board (QEMU RSS after boot): median {statistics.median(rss):.0f} MiB "
              f"({min(rss):.0f}-{max(rss):.0f}), {machine.MEMORY_MIB} MiB guest RAM")
        for n in (1, 3):
            times = []
            for _ in range(args.runs):
                times.append(clusterkit("lab", "up", "--vm", "-n", str(n), "--name", NAME, env=env))
                if _ < args.runs - 1 or n == 1:
                    clusterkit("lab", "down", "--name", NAME)
            print(f"fresh boards from their snapshots, {n}: median {statistics.median(times):.1f} s "
                  f"({', '.join(f'{t:.1f}' for t in times)})")
        out = in_scratch(f"""
import time, clusterkit.lab as l
from clusterkit.lab.wait import sshd_answers
lab = l.find({NAME!r}); b = lab.boards['{NAME}1']
t = time.monotonic(); lab.exec('{NAME}1', 'systemctl reboot')
while sshd_answers(b.host, timeout=1): time.sleep(0.2)
down = time.monotonic() - t
while not sshd_answers(b.host, timeout=1): time.sleep(0.5)
print(down, time.monotonic() - t)""", cache)
        down, back = map(float, out.split())
        print(f"reboot cycle of one board (two others idle): down after {down:.0f} s, SSH again after {back:.0f} s")
    finally:
        clusterkit("lab", "down", "--name", NAME)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
