"""What each kind of node's Platform answers for a shared folder, an fstab and a fresh image: a board's, a
sandbox's and the namespace lab's."""

from __future__ import annotations

import pytest

import clusterkit
from clusterkit.backends.platform import BOARD_PLATFORM
from clusterkit.backends.sandboxplatform import SANDBOX
from clusterkit.lab.platform import LAB_PLATFORM
from clusterkit.steps import sandbox


class Untouchable:
    """A node that fails the test when anything reads or writes it."""

    name = "pc0"

    def __getattr__(self, attr):
        raise AssertionError(f"the Platform touched the node ({attr})")


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERKIT_STATE", str(tmp_path / "state"))
    with clusterkit.connect(backend="local", sandbox=tmp_path / "sandbox") as cluster:
        yield cluster


@pytest.mark.parametrize("platform", [BOARD_PLATFORM, LAB_PLATFORM], ids=["board", "lab"])
def test_a_board_or_lab_node_is_imaged_by_its_card_or_lab_never_here(platform):
    node = Untouchable()
    assert platform.needs_image(node) is False
    assert platform.lay_image(node, {"/etc/hostname": (b"raspberrypi\n", 0o644)}, hostname="raspberrypi") is False


def test_a_sandbox_waits_for_an_image_until_one_is_laid(local):
    node = local["pc1"]
    assert SANDBOX.needs_image(node)
    node.write_file("/etc/hostname", b"old\n")
    node.write_file("/etc/hostname", b"older\n")          # now with a backup and an original beside it
    assert node.read_file("/etc/hostname.clusterkit.bak") == b"old\n"
    files = {"/etc/passwd": (b"root:x:0:0:root:/root:/bin/bash\n", 0o644), "/etc/hostname": (b"raspberrypi\n", 0o644),
             "/etc/ssh/sshd_config": (b"UsePAM yes\n", 0o644)}
    assert SANDBOX.lay_image(node, files, hostname="raspberrypi") is True
    assert not SANDBOX.needs_image(node)
    assert node.read_file("/etc/hostname") == b"raspberrypi\n"
    assert node.read_file("/etc/hostname.clusterkit.bak") is None and node.read_file("/etc/hostname.clusterkit.orig") is None
    key = node.read_file("/etc/ssh/ssh_host_ed25519_key.pub")
    assert key is not None and key.split()[-1] == b"root@raspberrypi"
    assert SANDBOX.lay_image(node, files, hostname="raspberrypi")
    assert node.read_file("/etc/ssh/ssh_host_ed25519_key.pub") == key    # a second image keeps the node's key


def test_prepare_lays_the_image_once(local):
    assert sandbox.prepare(local) is True
    assert all(not node.platform.needs_image(node) for node in local)
    assert sandbox.prepare(local) is False


def test_fresh_image_refuses_nodes_it_cannot_image():
    class Boards(list):
        class inventory:
            uplink = "wlan0"
    node = Untouchable()
    node.__dict__["platform"] = BOARD_PLATFORM
    with pytest.raises(ValueError, match="prepares local sandboxes"):
        sandbox.fresh_image(Boards([node]))
