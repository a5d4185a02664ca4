"""Helpers of the card tests: the test secrets, and a real FAT image on a loop device."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from waiting import wait_for

PASSWORD = "correct horse battery"
PSK = "venue wifi passphrase"


def need_root_tools(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a FAT image needs root")
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (scripts/apt-packages.txt)")


def _kernel_has_vfat() -> bool:
    return any(line.split()[-1] == "vfat" for line in Path("/proc/filesystems").read_text().splitlines())


class FatImage:
    """A real FAT file system in a file, on a loop device, mounted at ``mountpoint``.

    Mounted by the kernel's vfat where it has one, else by fusefat in the foreground (a
    child we own, so unmounting waits for it to have written everything).
    """

    def __init__(self, image: Path, mountpoint: Path):
        self.image, self.mountpoint = image, mountpoint
        self.loop: str | None = None
        self.fuse: subprocess.Popen | None = None

    def mount(self) -> None:
        self.loop = subprocess.run(["losetup", "--find", "--show", str(self.image)], check=True,
                                   capture_output=True, text=True).stdout.strip()
        if _kernel_has_vfat():
            subprocess.run(["mount", "-t", "vfat", self.loop, str(self.mountpoint)], check=True, capture_output=True)
            return
        need_root_tools("fusefat")
        self.fuse = subprocess.Popen(["fusefat", "-f", "-o", "rw+", self.loop, str(self.mountpoint)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.ismount(self.mountpoint) or self.fuse.poll() is not None, 30,
                 "fusefat to mount the image (or give up)")
        assert os.path.ismount(self.mountpoint), "fusefat did not mount the image"

    def unmount(self) -> None:
        if os.path.ismount(self.mountpoint):
            subprocess.run(["umount", str(self.mountpoint)], check=True, capture_output=True)
        if self.fuse is not None:
            self.fuse.wait(timeout=60)     # fusefat has flushed and exited
            self.fuse = None
        if self.loop:
            subprocess.run(["losetup", "-d", self.loop], check=False, capture_output=True)
            self.loop = None

    def read_back(self, name: str) -> bytes:
        """A file of the image, read by mtools (not through the mount): unmount first."""
        assert not os.path.ismount(self.mountpoint)
        return subprocess.run(["mtype", "-i", str(self.image), f"::{name}"], capture_output=True, check=True,
                              env={**os.environ, "MTOOLS_SKIP_CHECK": "1"}).stdout


