"""NFS and time on the host-root lab (``lab up --host-root``, for hosts that allow no user namespace): nfs-ganesha
serving from the primary, nfs-ls from the workers; chronyd -x following. The default lab's NFS server (unfs3) is
tested in ``test_lab_nfs_userns.py``.

The lab is first set up the way notebooks 01-02 do it (one user with one UID, cluster addresses
and names), through the SSH backend, as a learner's lab would be.
"""

from __future__ import annotations

import pytest

from clusterkit import clock, workbook
from clusterkit.lab import ns
from clusterkit.steps import Nfs, TimeSync
from labnames import LAB_MARKS, lab_name, running_lab

pytestmark = LAB_MARKS
NAME = lab_name("ts2lab")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(NAME, 3, tmp_path_factory.mktemp("state"), kind=ns.KIND.name) as running:
        with running.connect() as c:   # notebooks 01-02
            workbook.reapply(c, "01_users", "02_network").save_inventory()
        yield running


def test_ganesha_serves_and_every_worker_reads_the_share(lab, cluster):
    step = Nfs(cluster)
    plan = step.plan()
    assert any("nfs-ganesha" in n for n in plan.notes)
    result = step.apply(plan, progress=False)
    assert result.ok, result.text()
    assert "nfs-ganesha serves /srv/shared" in result.outcome(NAME + "0").verified
    for w in (NAME + "1", NAME + "2"):
        assert "nfs-ls" in result.outcome(w).verified
        assert "x-systemd.automount" in lab.exec(w, "tail -1 /etc/fstab").stdout
    ls = step.nfs_ls()
    assert ls.ok, ls.text()
    rt = step.roundtrip(writer=NAME + "1")
    assert rt.ok and len(rt.gathered()) == 1 and f"written on {NAME}1" in rt.text()
    # The real server lists the file as its writer's: alice's UID, 1000, as numbers (not nobody, 65534).
    listed = step.nfs_ls()
    line = next(ln for ln in listed[NAME + "2"].stdout.splitlines() if f"hello-from-{NAME}1.txt" in ln)
    assert line.split()[2:4] == ["1000", "1000"], line
    before = {n: lab.exec(n, "cat /etc/fstab /etc/exports /etc/ganesha/ganesha.conf 2>/dev/null").stdout
              for n in lab.boards}
    again = Nfs(cluster)
    assert again.plan().empty
    assert again.apply(progress=False).ok
    assert {n: lab.exec(n, "cat /etc/fstab /etc/exports /etc/ganesha/ganesha.conf 2>/dev/null").stdout
            for n in lab.boards} == before


def test_chronyd_x_on_the_primary_and_workers_follow(lab, cluster):
    result = TimeSync(cluster).apply(progress=False)
    assert result.ok, result.text()
    for n in lab.boards:
        assert "-x" in lab.exec(n, "tr '\\0' ' ' < /proc/$(cat /run/chrony/chronyd.pid)/cmdline").stdout
    skew = clock.wait_for_sync(cluster, nodes=f"{NAME}[1-2]", timeout=60)
    primary = lab.boards[NAME + "0"].address
    for w in (NAME + "1", NAME + "2"):
        assert skew[w].selected == primary and skew[w].synced, skew.text()
        assert skew[w].offset is not None and abs(skew[w].offset) < 0.1
    assert TimeSync(cluster).plan().empty
