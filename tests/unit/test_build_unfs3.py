"""scripts/build-unfs3.sh: builds unfsd from the vendored source once, again only when that source changed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT, VENDOR = ROOT / "scripts" / "build-unfs3.sh", ROOT / "vendor" / "unfs3"
TOOLS = ("gcc", "make", "autoreconf", "flex", "bison", "pkg-config")


def build(tmp_path: Path, src: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, UNFS3_SRC=str(src), UNFSD_DEST=str(tmp_path / "sbin" / "unfsd"),
               UNFSD_STAMP=str(tmp_path / "unfsd.source"))
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300)


def test_built_once_then_only_when_its_source_changed(tmp_path):
    if not all(shutil.which(t) for t in TOOLS):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            pytest.fail("unfs3's build tools are missing, though scripts/setup.sh installs them here: run it")
        pytest.skip("unfs3's build tools are missing (scripts/setup.sh installs them as root on Debian)")
    src = tmp_path / "unfs3"
    shutil.copytree(VENDOR, src)
    first = build(tmp_path, src)
    assert first.returncode == 0, first.stdout + first.stderr
    unfsd = tmp_path / "sbin" / "unfsd"
    assert "installed" in first.stdout and os.access(unfsd, os.X_OK)
    assert subprocess.run([str(unfsd), "-h"], capture_output=True, text=True).stdout.startswith("UNFS3 unfsd 0.11.0")
    assert sorted(p.name for p in src.iterdir()) == \
        sorted(p.name for p in VENDOR.iterdir())              # built in a copy: no configure, no objects here
    made = unfsd.stat().st_mtime_ns
    again = build(tmp_path, src)
    assert again.returncode == 0 and again.stdout == "" and unfsd.stat().st_mtime_ns == made
    (src / "NEWS").write_text((src / "NEWS").read_text() + "\n")   # the source changed: built again
    changed = build(tmp_path, src)
    assert changed.returncode == 0 and "installed" in changed.stdout and unfsd.stat().st_mtime_ns != made
