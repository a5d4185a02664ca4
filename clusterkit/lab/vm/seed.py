"""A virtual board's "card": its boot partition, a small FAT disk labelled ``bootfs`` as a Pi's is.

It holds the first-boot files of :mod:`clusterkit.firstboot` (cloud-init's
NoCloud ``user-data``, ``network-config``, ``meta-data``) beside the
``config.txt`` and ``cmdline.txt`` that mark a Raspberry Pi boot partition, so
that ``clusterkit firstboot copy`` accepts it as one. The board reads it at
every boot; writing a new one and rebooting the board is reflashing its card.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from ...errors import ClusterkitError

#: The boot partition's label (Raspberry Pi OS's; the image's cloud-init looks for it).
LABEL = "bootfs"
SIZE_KIB = 16 * 1024
#: The markers of a Pi boot partition (a virtual board boots its kernel directly and reads neither).
MARKERS = {
    "config.txt": b"# A clusterkit virtual board boots its kernel directly; a Pi reads this file.\n",
    "cmdline.txt": b"console=serial0,115200 console=tty1 root=LABEL=rootfs rootfstype=ext4 fsck.repair=yes rootwait\n",
}


def digest(files: dict[str, bytes]) -> str:
    """A short hash of a card's files (with the markers): the same files make the same card."""
    h = hashlib.sha256()
    for name in sorted({**MARKERS, **files}):
        h.update(name.encode() + b"\0" + {**MARKERS, **files}[name] + b"\0")
    return h.hexdigest()[:16]


def write_card(path: Path, files: dict[str, bytes]) -> Path:
    """Make ``path``, a FAT disk image labelled ``bootfs`` holding ``files`` (atomically replaced)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    staging = path.with_name(f".{path.name}.files")
    staging.mkdir(mode=0o700, exist_ok=True)
    try:
        run = lambda *cmd: subprocess.run(cmd, capture_output=True, text=True)   # noqa: E731
        # A fixed volume id keeps the same files the same card, byte for byte.
        r = run("mkfs.vfat", "-C", "-n", LABEL, "-i", "b0075eed", str(tmp), str(SIZE_KIB))
        if r.returncode != 0:
            raise ClusterkitError(f"mkfs.vfat failed: {r.stderr.strip()}", field="card")
        for name, data in {**MARKERS, **files}.items():
            if "/" in name or name.startswith("."):
                raise ClusterkitError(f"{name!r} is not a file name for a boot partition", field="card")
            src = staging / name
            src.write_bytes(data)
            src.chmod(0o600)
            r = run("mcopy", "-o", "-m", "-i", str(tmp), str(src), f"::/{name}")
            if r.returncode != 0:
                raise ClusterkitError(f"mcopy {name} onto the card failed: {r.stderr.strip()}", field="card")
        tmp.chmod(0o600)
        os.replace(tmp, path)
        return path
    finally:
        for p in staging.iterdir():
            p.unlink()
        staging.rmdir()
        tmp.unlink(missing_ok=True)


def read_card(path: Path, name: str) -> bytes:
    """One file of a card, read with mtools (no mount)."""
    r = subprocess.run(["mtype", "-i", str(path), f"::/{name}"], capture_output=True)
    if r.returncode != 0:
        raise ClusterkitError(f"{name} is not on the card {path}", field="card")
    return r.stdout


__all__ = ["write_card", "read_card", "digest", "LABEL", "MARKERS"]
