"""NFS on a lab in a user namespace (the default ``lab up``): unfs3 and rpcbind on the primary, as the node's root
(an unprivileged host uid), NFSv3 with ``insecure``; a worker writes through the real server as a person and
the primary sees that person's file, and root on a worker is squashed.

The lab is first set up the way notebooks 01-02 do it (one user with one UID, cluster addresses and names).
"""

from __future__ import annotations

import os

import pytest

from clusterkit import workbook
from clusterkit.lab import rootless
from clusterkit.steps import Nfs
from labnames import LAB_MARKS, lab_name, running_lab
from waiting import wait_for

pytestmark = LAB_MARKS
NAME = lab_name("tnu")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(NAME, 3, tmp_path_factory.mktemp("state"), kind="userns") as running:
        with running.connect() as c:   # notebooks 01-02
            workbook.reapply(c, "01_users", "02_network").save_inventory()
        yield running


def host_ids(pid: int) -> tuple[int, int]:
    """The real and effective uid of a host process."""
    with open(f"/proc/{pid}/status") as f:
        real, effective = next(line.split()[1:3] for line in f if line.startswith("Uid:"))
    return int(real), int(effective)


def in_node(init: int, comm: str) -> list[int]:
    """Host pids of the processes called ``comm`` in the PID namespace of the node whose PID 1 is ``init``."""
    ns = os.stat(f"/proc/{init}/ns/pid").st_ino
    out = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() == comm and os.stat(f"/proc/{entry}/ns/pid").st_ino == ns:
                    out.append(int(entry))
        except OSError:
            continue
    return out


def test_unfs3_serves_nfsv3_and_a_worker_writes_as_its_owner_while_root_is_squashed(lab, cluster):
    primary, worker = NAME + "0", NAME + "1"
    step = Nfs(cluster)
    plan = step.plan()
    assert any("unfs3" in n for n in plan.notes)
    result = step.apply(plan, progress=False)
    assert result.ok, result.text()
    assert "unfs3 serves /srv/shared (NFSv3" in result.outcome(primary).verified
    assert "nfs-ls" in result.outcome(worker).verified
    exports = lab.exec(primary, "cat /etc/exports").stdout
    assert "/srv/shared 10." in exports and "(rw,sync,no_subtree_check,root_squash,insecure)" in exports
    line = lab.exec(worker, "tail -1 /etc/fstab").stdout.split()
    assert line[2] == "nfs" and "vers=3" in line[3].split(","), line
    assert all("version=3" in r.command for r in step.nfs_ls().values())

    # The server is the node's root, not the host's: unfsd's real uid is the holder's (the range's base).
    holder = rootless.holder_of(lab.dir)
    servers = in_node(lab.pid(primary), "unfsd")
    assert holder is not None and len(servers) == 1
    assert host_ids(servers[0])[0] == host_ids(holder.pid)[0] != 0

    # A worker writes through the real server (nfs-cp, over NFSv3): as alice, the primary sees alice's file.
    url = f"nfs://{cluster.inventory[primary].address}/srv/shared"
    w = lab.exec(worker, f"echo from-alice > /tmp/a.txt && chmod 644 /tmp/a.txt && "
                         f"runuser -u alice -- nfs-cp /tmp/a.txt {url}/by-alice.txt")
    assert w.returncode == 0, w.stderr
    seen = lab.exec(primary, "stat -c '%U %u' /srv/shared/by-alice.txt; cat /srv/shared/by-alice.txt").stdout.split()
    assert seen == ["alice", "1000", "from-alice"]
    # Root on the worker is squashed: its file in the sticky folder is nobody's.
    r = lab.exec(worker, f"nfs-cp /tmp/a.txt {url}/by-root.txt")
    assert r.returncode == 0, r.stderr
    assert lab.exec(primary, "stat -c '%U %u' /srv/shared/by-root.txt").stdout.split() == ["nobody", "65534"]
    # And, as nobody, cannot read alice's file (nfs-cp made it 0660), which alice reads.
    assert lab.exec(primary, "stat -c '%a' /srv/shared/by-alice.txt").stdout.strip() == "660"
    denied = lab.exec(worker, f"nfs-cat {url}/by-alice.txt")
    assert denied.returncode != 0 and "from-alice" not in denied.stdout, denied
    mine = lab.exec(worker, f"runuser -u alice -- nfs-cat {url}/by-alice.txt")
    assert mine.returncode == 0 and mine.stdout.strip() == "from-alice", mine

    # The same step again changes nothing; after the primary's reboot its boot serves the share again.
    assert Nfs(cluster).plan().empty
    before = lab.pid(primary)
    assert lab.exec(primary, "reboot").returncode == 0
    wait_for(lambda: lab.pid(primary) not in (None, before), 30, f"{primary} to boot again")
    lab.wait_booted([primary], timeout=30)
    ls = lab.exec(worker, f"runuser -u alice -- nfs-ls {url}")
    assert ls.returncode == 0 and "by-alice.txt" in ls.stdout, ls.stderr
