"""Cards on disk: one folder per node, modes, refusals to overwrite, and the copy onto a real FAT boot partition."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import replace

import pytest
from cardtools import need_root_tools

from clusterkit.errors import ClusterkitError
from clusterkit.firstboot import boot_partition_problem, copy_to_boot, read, render, write


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_one_folder_per_node_with_private_modes(cards, tmp_path):
    out = write(cards, tmp_path / "cards", validate=False)
    assert list(out) == ["pc0", "pc1", "pc2"]
    for card in cards:
        folder = out[card.node]
        assert folder == tmp_path / "cards" / card.node
        assert sorted(os.listdir(folder)) == ["meta-data", "network-config", "ssh", "user-data"]   # no temp left
        assert (mode(folder / "user-data"), mode(folder / "network-config")) == (0o600, 0o600)
        assert (mode(folder / "meta-data"), mode(folder / "ssh")) == (0o644, 0o644)
        assert read(folder) == render(card)


def test_writing_the_same_cards_again_changes_nothing(cards, tmp_path):
    write(cards, tmp_path, validate=False)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    write(cards, tmp_path, validate=False)
    assert before == {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}


def test_a_different_file_is_refused_without_force(cards, tmp_path):
    write(cards, tmp_path, validate=False)
    (tmp_path / "pc1" / "user-data").write_text("#cloud-config\nhostname: mine\n")
    changed = [replace(c, timezone="UTC") for c in cards]
    with pytest.raises(ClusterkitError) as e:
        write(changed, tmp_path, validate=False)
    assert e.value.node == "pc0" and "force" in str(e.value)
    assert read(tmp_path / "pc0") == render(cards[0])           # nothing written: pc0 is unchanged too
    write(changed, tmp_path, validate=False, force=True)
    assert read(tmp_path / "pc1") == render(changed[1])


def test_switching_release_removes_the_other_release_files_only_with_force(cards, tmp_path):
    cards = [replace(c, uplink=None) for c in cards]
    write(cards, tmp_path, validate=False)
    with pytest.raises(ClusterkitError, match="another release"):
        write(cards, tmp_path, release="bookworm", validate=False)
    write(cards, tmp_path, release="bookworm", validate=False, force=True)
    assert sorted(os.listdir(tmp_path / "pc0")) == ["ssh", "userconf.txt"]
    assert mode(tmp_path / "pc0" / "userconf.txt") == 0o600


def test_read_refuses_what_is_not_a_card_folder(tmp_path):
    with pytest.raises(ClusterkitError, match="not a folder"):
        read(tmp_path / "missing")
    with pytest.raises(ClusterkitError, match="no card files"):
        read(tmp_path)
    (tmp_path / "user-data").write_text("#cloud-config\n")
    (tmp_path / "userconf.txt").write_text("a:b\n")
    with pytest.raises(ClusterkitError, match="both"):
        read(tmp_path)


def test_copy_refuses_a_plain_folder(card, tmp_path):
    (tmp_path / "config.txt").write_text("")
    (tmp_path / "cmdline.txt").write_text("")
    for target, reason in [(tmp_path / "nothing", "is not a folder"), (tmp_path, "is not a mount point")]:
        with pytest.raises(ClusterkitError, match=reason) as e:
            copy_to_boot(render(card), target)
        assert e.value.field == "mountpoint" and "\n" not in str(e.value)
    assert not (tmp_path / "user-data").exists()


def test_copy_refuses_unknown_file_names(card, tmp_path):
    with pytest.raises(ClusterkitError, match="not a card file"):
        copy_to_boot({"firstrun.sh": b"#!/bin/sh\n"}, tmp_path)


def test_copy_refuses_a_mount_that_is_not_fat(card, tmp_path):
    need_root_tools("mount")
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    try:
        (mnt / "config.txt").write_text("")
        (mnt / "cmdline.txt").write_text("")
        with pytest.raises(ClusterkitError, match="is a tmpfs file system, not the FAT"):
            copy_to_boot(render(card), mnt)
        assert not (mnt / "user-data").exists()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_copy_refuses_a_fat_partition_without_the_pi_files(card, fat_image):
    assert "has no config.txt and no cmdline.txt" in boot_partition_problem(fat_image.mountpoint)
    (fat_image.mountpoint / "config.txt").write_text("")
    with pytest.raises(ClusterkitError, match="has no cmdline.txt: not a Raspberry Pi boot partition"):
        copy_to_boot(render(card), fat_image.mountpoint)
    assert "user-data" not in os.listdir(fat_image.mountpoint)


def test_copy_onto_a_real_fat_boot_partition(card, boot_partition):
    files = render(card)
    # a freshly flashed trixie card already has the image's own files: they are replaced
    (boot_partition.mountpoint / "user-data").write_text("#cloud-config\n# the image's example\n")
    assert boot_partition_problem(boot_partition.mountpoint) is None
    assert copy_to_boot(files, boot_partition.mountpoint) == list(files)
    names = os.listdir(boot_partition.mountpoint)
    assert not [n for n in names if "clusterkit-tmp" in n]
    boot_partition.unmount()
    for name, data in files.items():
        assert boot_partition.read_back(name) == data
    assert boot_partition.read_back("cmdline.txt").startswith(b"console=tty1")
    fsck = subprocess.run(["fsck.vfat", "-n", str(boot_partition.image)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
