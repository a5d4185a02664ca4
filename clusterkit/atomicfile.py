"""Writing a file of this machine atomically, the one way: a temporary file beside it, then one rename.

A reader sees the old file or the new one, never part of one, and a crash leaves the
old file whole. The temporary file (:func:`temp_path`) is in the same folder, so the
rename stays on one file system; it is removed when the write fails.
"""

from __future__ import annotations

import os
import posixpath
import secrets
from pathlib import Path


def temp_path(path: str, token: str) -> str:
    """A temporary file beside ``path`` (here or on a node), so that the final rename stays on one file system."""
    head, tail = posixpath.split(path)
    return posixpath.join(head, f".{tail}.clusterkit-{token}.tmp")


def write_atomic(path: str | os.PathLike, data: bytes | str, *, mode: int | None) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) in one rename, flushed to disk first.

    ``mode``: the file's permissions, set whatever the umask; None leaves them to the file
    system (FAT keeps none: a card's boot partition).
    """
    path = Path(path)
    tmp = Path(temp_path(str(path), secrets.token_hex(4)))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


__all__ = ["temp_path", "write_atomic"]
