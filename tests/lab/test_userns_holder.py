"""A lab's user namespace held for real (as root, with a range of its own): who a process inside is on the
host, that it cannot write what host root owns, and that nothing is left once the holder is released."""

from __future__ import annotations

import subprocess
import time

from clusterkit.lab import procs, userns
from labnames import LAB_MARKS

pytestmark = LAB_MARKS


def host_uid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("Uid:")))


def gone(pid: int) -> bool:
    """No such process, or only its zombie (its parent is gone; init reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except FileNotFoundError:
        return True
    return text[text.rindex(")") + 2] == "Z"


def test_the_held_namespace_maps_root_to_the_range_and_goes_with_its_holder(tmp_path):
    for name in ("subuid", "subgid"):
        (tmp_path / name).write_text("root:300000:65536\n")
    ids = userns.for_caller(uid=0, gid=0, name="root", subuid=tmp_path / "subuid", subgid=tmp_path / "subgid")
    owned = tmp_path / "owned-by-host-root"
    owned.mkdir(mode=0o755)
    holder = userns.hold(ids)
    inside = []
    try:
        inside = procs.children(holder.pid)
        assert len(inside) == 1
        r = subprocess.run(userns.enter(holder) + ["sh", "-c", f"id -u; cat /proc/self/uid_map; "
                                                   f"touch {owned}/x || echo refused; ip -o link"],
                           capture_output=True, text=True, timeout=30)
        lines = r.stdout.splitlines()
        assert lines[0] == "0"
        assert lines[1].split() == ["0", "300000", "65536"]
        assert lines[2] == "refused" and "Permission denied" in r.stderr
        assert {line.split(":")[1].strip() for line in lines[3:]} == {"lo"}   # the lab's own network namespace
        assert not (owned / "x").exists()
        # pi (1000) inside is host uid 301000
        pi = subprocess.Popen(userns.enter(holder, net=False) + ["setpriv", "--reuid=1000", "--regid=1000",
                                                                "--clear-groups", "sleep", "30"])
        try:
            for _ in range(500):                 # nsenter, then setpriv, then sleep: the same pid
                with open(f"/proc/{pi.pid}/comm") as f:
                    if f.read().strip() == "sleep":
                        break
                time.sleep(0.01)
            assert host_uid(pi.pid) == 301000
        finally:
            pi.kill()
            pi.wait()
    finally:
        userns.release(holder)
    assert not procs.alive(holder.proc)
    assert all(gone(pid) for pid in inside)
