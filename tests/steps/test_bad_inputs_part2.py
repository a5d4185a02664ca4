"""Bad input to the NFS, time and boot-target steps: refused before any node is touched, naming field and node."""

from __future__ import annotations

import pytest

from clusterkit import steps
from clusterkit.ops import BootTarget
from clusterkit.steps import StepError
from clusterkit.steps.errors import ReadError
from clusterkit.steps.nfs import Nfs
from clusterkit.steps.timesync import TimeSync

ALL = "pc[0-3]"

CASES = {
    # nfs
    "relative export": (lambda c: Nfs(c, export="srv/shared"), "export", ALL),
    "missing export": (lambda c: Nfs(c, export=""), "export", ALL),
    "export of a system directory": (lambda c: Nfs(c, export="/etc"), "export", ALL),
    "relative mount point": (lambda c: Nfs(c, mount="mnt/shared"), "mount", ALL),
    "mount point with a space": (lambda c: Nfs(c, mount="/srv/my share"), "mount", ALL),
    "mount point with ..": (lambda c: Nfs(c, mount="/srv/../etc"), "mount", ALL),
    "server not a node": (lambda c: Nfs(c, server="pc9"), "server", "pc9"),
    "bad subnet": (lambda c: Nfs(c, clients="10.0.0.0/33"), "clients", ALL),
    "subnet with host bits": (lambda c: Nfs(c, clients="10.0.0.1/24"), "clients", ALL),
    "public subnet": (lambda c: Nfs(c, clients="8.8.8.0/24"), "clients", ALL),
    "server outside the subnet": (lambda c: Nfs(c, clients="10.0.5.0/24"), "clients", "pc0"),
    "unknown export option": (lambda c: Nfs(c, export_options=("rw", "nosuchopt")), "export_options", ALL),
    "contradicting export options": (lambda c: Nfs(c, export_options=("ro",)), "export_options", ALL),
    "squash as an option": (lambda c: Nfs(c, export_options=("no_root_squash",)), "export_options", ALL),
    "unknown fstab option": (lambda c: Nfs(c, mount_options=("nofial",)), "mount_options", ALL),
    "fstab option without its value": (lambda c: Nfs(c, mount_options=("timeo",)), "mount_options", ALL),
    "noauto": (lambda c: Nfs(c, mount_options=("noauto",)), "mount_options", ALL),
    "bad owner": (lambda c: Nfs(c, owner="Alice!"), "owner", ALL),
    "owner missing on the nodes": (lambda c: Nfs(c, owner="zoe"), "owner", "pc0"),
    # time
    "time server not a node": (lambda c: TimeSync(c, server="pc7"), "server", "pc7"),
    "allow /33": (lambda c: TimeSync(c, allow="10.0.0.0/33"), "allow", "pc0"),
    "allow not a subnet": (lambda c: TimeSync(c, allow="cluster"), "allow", "pc0"),
    "bad NTP server name": (lambda c: TimeSync(c, upstream=("ntp_server!",)), "upstream", "pc0"),
    "NTP name with a space": (lambda c: TimeSync(c, upstream=("pool ntp.org",)), "upstream", "pc0"),
    "stratum 16": (lambda c: TimeSync(c, stratum=16), "stratum", "pc0"),
    "makestep without a limit": (lambda c: TimeSync(c, makestep=(1.0,)), "makestep", ALL),
    # boot target
    "unknown worker target": (lambda c: BootTarget(c, workers="rescue.target"), "workers", ALL),
    "unknown primary target": (lambda c: BootTarget(c, primary="desktop"), "primary", "pc0"),
}


@pytest.fixture
def one_uid(fresh):
    assert steps.Users(fresh, name="alice", uid=1000, root_key=steps.rescue_key(fresh)).apply(progress=False).ok
    return fresh


def test_there_are_enough_cases():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", list(CASES))
def test_refused_before_any_node_changes(one_uid, snapshot, case):
    make, fld, node = CASES[case]
    before = snapshot(one_uid)
    with pytest.raises(StepError) as err:
        make(one_uid).apply(progress=False)
    assert err.value.field == fld, str(err.value)
    assert err.value.node == node, str(err.value)
    assert fld in str(err.value) and node in str(err.value)
    assert snapshot(one_uid) == before


def unreadable(cluster, node, name):
    """Make one of a node's files something a read fails on (a directory where the file should be)."""
    path = cluster[node].root / "etc" / name
    path.unlink()
    path.mkdir()


def test_plan_reads_every_node_before_it_reports_the_ones_it_cannot_read(one_uid, snapshot):
    for node, name in (("pc1", "passwd"), ("pc2", "passwd"), ("pc3", "group")):
        unreadable(one_uid, node, name)
    before = snapshot(one_uid)
    with pytest.raises(ReadError) as err:
        steps.Users(one_uid, name="alice", uid=1000, root_key=steps.rescue_key(one_uid)).plan()
    assert err.value.node == "pc[1-3]" and err.value.field == "read", str(err.value)
    assert str(err.value) == ("node pc[1-3], read: cannot read 3 of 4 nodes: "
                              "pc[1-2]: error: cannot read /etc/passwd: Is a directory; "
                              "pc3: error: cannot read /etc/group: Is a directory")
    rows = err.value.result
    assert list(rows) == ["pc0", "pc1", "pc2", "pc3"] and rows["pc0"].ok       # every node's row, the read one too
    assert rows["pc0"].value is not None and set(rows.failed) == {"pc1", "pc2", "pc3"}
    assert snapshot(one_uid) == before


def test_one_unreadable_node_is_named_alone(one_uid):
    unreadable(one_uid, "pc2", "passwd")
    with pytest.raises(ReadError) as err:
        steps.Users(one_uid, name="alice", uid=1000, root_key=steps.rescue_key(one_uid)).plan()
    assert str(err.value) == "node pc2, read: cannot read this node: error: cannot read /etc/passwd: Is a directory"
    assert isinstance(err.value, StepError) and len(err.value.result) == 4
