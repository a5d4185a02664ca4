"""Cards on disk: :func:`write` one folder per node, :func:`read` one back, :func:`copy_to_boot` onto a card.

Every file is written atomically (a temporary file in the same folder, then one
rename); files holding a secret (``user-data``, ``network-config``, ``userconf.txt``)
are mode 0600 in the output folder. Nothing is written until every card is checked
and rendered, and every existing file that would change is allowed (``force``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping

from ..atomicfile import write_atomic
from ..errors import ClusterkitError
from .card import Card
from .checks import check_cards
from .cloudinit import SSH, USER_DATA
from .render import CARD_FILES, check_release, render
from .userconf import USERCONF

#: What marks a Raspberry Pi's boot partition.
BOOT_MARKERS = ("config.txt", "cmdline.txt")
#: vfat and msdos: the kernel's FAT; fuse.fusefat: FAT through FUSE (a host whose kernel has no vfat).
BOOT_FS_TYPES = ("vfat", "msdos", "fuse.fusefat")


def write(cards: Iterable[Card], out_dir: str | os.PathLike, *, release: str = "trixie", force: bool = False,
          validate: bool = True) -> dict[str, Path]:
    """Write each card's files to ``out_dir/NODE/``; returns node -> folder.

    The set is checked first (each card, distinct names and addresses, one UID per
    user), then rendered, then (``validate``) passed through the validators this host
    has (:mod:`clusterkit.firstboot.external`). A different file already there, or a
    card file of another release, is refused unless ``force``.
    """
    check_release(release)
    cards = check_cards(cards)
    rendered = {c.node: render(c, release=release) for c in cards}
    if validate:
        from .external import check_files
        for c in cards:
            check_files(rendered[c.node], node=c.node, secrets=c.secrets())
    out = Path(out_dir)
    stale: dict[str, list[Path]] = {}
    for node, files in rendered.items():
        folder = out / node
        for name in CARD_FILES:
            path = folder / name
            if not path.is_file() and not path.is_symlink():
                continue
            if name not in files:
                stale.setdefault(node, []).append(path)
                what = "a card file of another release"
            elif path.is_symlink() or path.read_bytes() != files[name]:
                what = "a different file"
            else:
                continue
            if not force:
                raise ClusterkitError(f"{path} is already there and is {what}: give force=True (--force) "
                                      "to replace it", node=node, field="out_dir")
    written = {}
    for node, files in rendered.items():
        folder = out / node
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            path, mode = folder / name, 0o600 if CARD_FILES[name] else 0o644
            if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
                path.chmod(mode)        # the same card again: nothing to write
            else:
                write_atomic(path, data, mode=mode)
        for path in stale.get(node, []):
            path.unlink()
        written[node] = folder
    return written


def read(node_dir: str | os.PathLike) -> dict[str, bytes]:
    """The card files in one node's folder (as :func:`write` made it)."""
    folder = Path(node_dir)
    if not folder.is_dir():
        raise ClusterkitError(f"{folder} is not a folder", field="node_dir")
    files = {name: (folder / name).read_bytes() for name in CARD_FILES if (folder / name).is_file()}
    if not files or set(files) == {SSH}:      # the empty ssh file alone is not a card
        raise ClusterkitError(f"{folder} holds no card files ({', '.join(CARD_FILES)})", field="node_dir")
    if USER_DATA in files and USERCONF in files:
        raise ClusterkitError(f"{folder} holds both a trixie card (user-data) and a bookworm one (userconf.txt)",
                              field="node_dir")
    return files


def boot_partition_problem(mountpoint: str | os.PathLike) -> str | None:
    """Why ``mountpoint`` is not a mounted Raspberry Pi boot partition, in one line; None when it is one."""
    path = Path(mountpoint)
    if not path.is_dir():
        return f"{path} is not a folder"
    real = os.path.realpath(path)
    if not os.path.ismount(real):
        return f"{path} is not a mount point: mount the card's boot partition (the small FAT one) there"
    fstype = _fs_type(real)
    if fstype not in BOOT_FS_TYPES:
        return f"{path} is a {fstype or 'unknown'} file system, not the FAT (vfat) boot partition"
    missing = [m for m in BOOT_MARKERS if not (path / m).is_file()]
    if missing:
        return f"{path} has no {' and no '.join(missing)}: not a Raspberry Pi boot partition"
    return None


def _fs_type(mountpoint: str) -> str | None:
    """The file system type mounted at ``mountpoint`` (the last mount there wins)."""
    found = None
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) > 4 and _unescape(fields[4]) == mountpoint and right:
            found = right.split()[0]
    return found


def _unescape(path: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        path = path.replace(code, char)
    return path


def copy_to_boot(files: Mapping[str, bytes], mountpoint: str | os.PathLike) -> list[str]:
    """Write one card's files onto its mounted boot partition, each atomically; returns the names written.

    Refused, with a one-line reason and nothing written, unless ``mountpoint`` is a
    mount point of a vfat file system holding ``config.txt`` and ``cmdline.txt``.
    """
    unknown = [n for n in files if n not in CARD_FILES]
    if unknown:
        raise ClusterkitError(f"{', '.join(sorted(unknown))} is not a card file ({', '.join(CARD_FILES)})",
                              field="files")
    problem = boot_partition_problem(mountpoint)
    if problem:
        raise ClusterkitError(problem, field="mountpoint")
    target = Path(mountpoint)
    for name, data in files.items():
        write_atomic(target / name, data, mode=None)   # FAT keeps no modes
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return list(files)


