"""The VM lab's tests: real boots of virtual boards (own kernel, systemd, NetworkManager, chrony, kernel NFS).

They run on the VM lab that the notebooks ran on when ``CLUSTERKIT_VM_LAB``
names it (``scripts/test.sh`` runs notebooks 00-06 there first, then these,
then notebook 09): the boards are then where a learner leaves them. Otherwise
they bring up their own VM lab and apply notebooks 01-06's steps to it.
Under TCG each boot takes a minute or more: each test does as few as it can.
"""

import os

import pytest

import clusterkit
import clusterkit.lab
from clusterkit import ops, steps, workbook
from clusterkit.lab.vm.check import reason
from labnames import lab_name

WHY_NOT = reason()
VM_MARKS = [pytest.mark.vm, pytest.mark.skipif(WHY_NOT is not None, reason=f"VM lab: {WHY_NOT}")]


@pytest.fixture(scope="session")
def vmlab_name(tmp_path_factory):
    """The name of a running VM lab whose boards went through notebooks 01-06 (user alice, addresses, keys,
    NFS, time, text mode on the workers)."""
    named = os.environ.get("CLUSTERKIT_VM_LAB")
    if named:
        lab = clusterkit.lab.find(named)
        assert lab is not None and lab.kind == "vm" and lab.running, f"no VM lab {named} is up"
        yield named
        return
    name = lab_name("tvm")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLUSTERKIT_STATE", str(tmp_path_factory.mktemp("vmstate")))
        lab = clusterkit.lab.up(n=2, name=name, kind="vm")   # a primary and a worker, as scripts/test.sh
        try:
            with lab.connect() as cluster:
                workbook.reapply(cluster, *workbook.CHAIN, user="alice").save_inventory()
            with lab.connect() as cluster:
                assert steps.SharedHomes(cluster).apply(progress=False).ok   # notebook 04's second share
                ops.BootTarget(cluster).apply(progress=False)
            yield name
        finally:
            clusterkit.lab.down(name=name)


@pytest.fixture
def vmlab(vmlab_name):
    """The VM lab as its record says now (a test that powers boards on or off sees its own changes)."""
    return clusterkit.lab.find(vmlab_name)


@pytest.fixture
def cluster(vmlab):
    with vmlab.connect() as c:
        yield c
