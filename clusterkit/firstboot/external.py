"""The validators of the real consumers, where this host has them: ``cloud-init schema`` and ``netplan generate``.

- ``cloud-init schema --config-file`` checks ``user-data`` when ``cloud-init`` is on PATH;
  the ``network-config`` too when that cloud-init has ``--schema-type network-config``
  and the file has no Wi-Fi (cloud-init's own schema has no ``wifis``: it hands them to netplan).
- ``netplan generate --root-dir TMP`` parses ``network-config`` as Raspberry Pi OS's netplan
  will, writing only under TMP, when ``netplan`` is on PATH.

Debian's cloud-init package is not installed on a host for this (it would enable its
boot services); a cloud-init unpacked elsewhere and put on PATH is used the same way.
Their output is masked before it appears in an error: it may quote a line holding a secret.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import ClusterkitError
from .cloudinit import NETWORK_CONFIG, USER_DATA
from .render import mask

TIMEOUT = 120


def available() -> tuple[str, ...]:
    """The validators found on PATH (``cloud-init``, ``netplan``)."""
    return tuple(t for t in ("cloud-init", "netplan") if shutil.which(t))


@functools.lru_cache(maxsize=4)
def _cloud_init_checks_network(exe: str) -> bool:
    done = subprocess.run([exe, "schema", "--help"], capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return "network-config" in done.stdout


def check_files(files: Mapping[str, bytes], *, node: str, secrets: Sequence[str] = ()) -> list[str]:
    """Run the validators found here on one card's files; returns what ran, raises on the first refusal."""
    ran = []
    with tempfile.TemporaryDirectory(prefix="clusterkit-card-") as tmp:
        root = Path(tmp)
        ci = shutil.which("cloud-init")
        if ci and USER_DATA in files:
            path = _put(root / USER_DATA, files[USER_DATA])
            _run([ci, "schema", "--config-file", str(path)], node=node, fld=USER_DATA, tool="cloud-init schema",
                 secrets=secrets, path=path)
            ran.append(f"cloud-init schema ({USER_DATA})")
            if (NETWORK_CONFIG in files and b"\n  wifis:" not in files[NETWORK_CONFIG]
                    and _cloud_init_checks_network(ci)):
                path = _put(root / NETWORK_CONFIG, files[NETWORK_CONFIG])
                _run([ci, "schema", "--schema-type", "network-config", "--config-file", str(path)],
                     node=node, fld=NETWORK_CONFIG, tool="cloud-init schema", secrets=secrets, path=path)
                ran.append(f"cloud-init schema ({NETWORK_CONFIG})")
        netplan = shutil.which("netplan")
        if netplan and NETWORK_CONFIG in files:
            target = root / "netplan"
            path = _put(target / "etc" / "netplan" / "50-cloud-init.yaml", files[NETWORK_CONFIG])
            _run([netplan, "generate", "--root-dir", str(target)], node=node, fld=NETWORK_CONFIG,
                 tool="netplan generate", secrets=secrets, path=path)
            ran.append(f"netplan generate ({NETWORK_CONFIG})")
    return ran


def _put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600)
    path.write_bytes(data)
    return path


def _run(argv: list[str], *, node: str, fld: str, tool: str, secrets: Sequence[str], path: Path) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ClusterkitError(f"{tool} did not answer within {TIMEOUT} s", node=node, field=fld) from None
    if done.returncode != 0:
        text = mask(done.stderr + done.stdout, secrets).replace(str(path), fld)   # name the file, not the temp copy
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("Traceback")]
        reason = "; ".join(lines[:3])[:400] or f"exit code {done.returncode}"
        raise ClusterkitError(f"{tool} refused it: {reason}", node=node, field=fld)
