"""Fixtures for the card tests: a real key pair, a real SHA-512 hash, cards, and a real FAT image mounted."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace

import pytest
from cardtools import PASSWORD, PSK, FatImage, need_root_tools

from clusterkit.firstboot import Card, Uplink, Wired, hash_password


@pytest.fixture(scope="session")
def pubkey(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@laptop", "-f", str(path)], check=True)
    return path.with_name("id_ed25519.pub").read_text().strip()


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def card(pubkey, password_hash) -> Card:
    return Card(node="pc0", hostname="pc0", user="alice", uid=1000, password_hash=password_hash, keys=(pubkey,),
                timezone="Europe/London", wired=Wired(address="10.0.0.1/24"),
                uplink=Uplink(ssid="Venue Wi-Fi", psk=PSK, country="GB"))


@pytest.fixture
def cards(card) -> list[Card]:
    return [replace(card, node=f"pc{i}", hostname=f"pc{i}", wired=Wired(address=f"10.0.0.{i + 1}/24"))
            for i in range(3)]


@pytest.fixture
def fat_image(tmp_path):
    """An empty FAT image, mounted; unmounted, its loop device detached, after the test."""
    need_root_tools("mkfs.vfat", "losetup", "mtype")
    image, mnt = tmp_path / "card.img", tmp_path / "boot"
    mnt.mkdir()
    with open(image, "wb") as f:
        f.truncate(32 * 1024 * 1024)
    subprocess.run(["mkfs.vfat", "-n", "BOOTFS", str(image)], check=True, capture_output=True)
    fat = FatImage(image, mnt)
    try:
        fat.mount()
        yield fat
    finally:
        fat.unmount()
    assert not os.path.ismount(mnt)
    assert str(image) not in subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout


@pytest.fixture
def boot_partition(fat_image):
    """The mounted FAT image with the Pi's config.txt and cmdline.txt, as a freshly flashed card has."""
    (fat_image.mountpoint / "config.txt").write_text("arm_64bit=1\n")
    (fat_image.mountpoint / "cmdline.txt").write_text("console=tty1 root=PARTUUID=1234-02 rootwait\n")
    return fat_image
