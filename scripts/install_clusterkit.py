"""Install this checkout's clusterkit into the running venv, changing nothing unless its files changed.

Run by ``scripts/setup.sh`` with the venv's own Python (``python -I``)::

    python -I scripts/install_clusterkit.py requirements CHECKOUT EXTRAS   # the pip requirements, one a line
    python -I scripts/install_clusterkit.py install CHECKOUT               # clusterkit itself

Kernels, engines, agents and the booth of a running lab import clusterkit from
this venv while setup runs again (a second workbook, the kiosk, a pull). So the
package is never rewritten in place, as ``pip install --force-reinstall`` does
(it removes the old files, then writes the new ones: a process importing in
between finds half a package). Instead:

- each version is a folder of its own, ``VENV/clusterkit-versions/DIGEST/clusterkit``,
  named by a digest of the package's files (their paths, contents and modes;
  never a path or a time), built and compiled beside the others, then renamed
  into place whole;
- ``site-packages/clusterkit`` is a link to the current version, replaced by one
  atomic rename (the first time, when pip's own folder is there, exchanged
  with it in one ``renameat2`` call). Same digest: nothing is touched at all;
- a process that imported clusterkit keeps importing from the folder it started
  with (``clusterkit/__init__.py`` resolves the link once) and holds that
  folder's ``in-use`` file open: a version is removed only when it is neither
  current nor the one before, and no process on this host (lab nodes included,
  which share its process table) holds it open.

One ``install`` runs at a time (a lock file beside the versions). An editable
install (``pip install -e``) of the checkout is left as it is.
"""

from __future__ import annotations

import compileall
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import sys
import sysconfig
import time
from pathlib import Path

PACKAGE = "clusterkit"
#: The folder of versions, inside the venv.
VERSIONS = "clusterkit-versions"
#: A file in each version's folder that every process running that version holds open.
IN_USE = "in-use"
#: What never goes into a version (and so never into its digest).
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", "~", ".swp")

CONSOLE_SCRIPT = """#!{python}
# clusterkit's command, written by scripts/setup.sh
import sys
from clusterkit.cli import main
if __name__ == "__main__":
    sys.exit(main())
"""


# ---------------------------------------------------------------- what the checkout holds

def package_files(checkout: Path) -> list[Path]:
    """The files of the package in ``checkout``, relative to ``checkout/clusterkit``, sorted."""
    root = checkout / PACKAGE
    found = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for f in files:
            if not f.endswith(SKIPPED_SUFFIXES):
                found.append((Path(here) / f).relative_to(root))
    return sorted(found)


def digest(checkout: Path) -> str:
    """A digest of the package's files: their paths, whether each is executable, and their bytes."""
    h = hashlib.sha256()
    root = checkout / PACKAGE
    for rel in package_files(checkout):
        path = root / rel
        executable = os.stat(path).st_mode & 0o111 != 0
        h.update(f"{rel.as_posix()}\0{int(executable)}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def requirements(checkout: Path, extras: str) -> list[str]:
    """The pip requirements of the checkout's pyproject: its dependencies and those of ``extras`` (comma-separated)."""
    try:
        import tomllib
    except ImportError:                      # Python 3.10: the TOML reader pip carries
        from pip._vendor import tomli as tomllib
    project = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]
    wanted = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in filter(None, extras.split(",")):
        if extra not in optional:
            raise SystemExit(f"setup: pyproject.toml has no extra {extra!r} (it has {', '.join(optional)})")
        wanted += [r for r in optional[extra] if r not in wanted]
    return wanted


# ---------------------------------------------------------------- the venv's side

def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def current(link: Path) -> str | None:
    """The digest the venv's clusterkit link points at (None: no link, pip's folder, or nothing)."""
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).parent.name


def editable(sp: Path) -> bool:
    """Whether the venv holds an editable install of clusterkit (kept as it is: it is the checkout itself)."""
    for info in sp.glob(f"{PACKAGE}-*.dist-info"):
        try:
            url = json.loads((info / "direct_url.json").read_text())
        except (OSError, ValueError):
            continue
        if url.get("dir_info", {}).get("editable"):
            return True
    return False


def build(checkout: Path, versions: Path, name: str) -> Path:
    """The version folder ``versions/name``, made whole beside the others first (a fresh copy, compiled)."""
    final = versions / name
    if (final / PACKAGE).is_dir():           # made before (a checkout going back to an earlier state)
        return final
    tmp = versions / f".build-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    src, dst = checkout / PACKAGE, tmp / PACKAGE
    for rel in package_files(checkout):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst / rel)
    compileall.compile_dir(str(dst), quiet=1, workers=1)
    (tmp / IN_USE).write_bytes(b"")
    for here, dirs, files in os.walk(tmp):
        os.chmod(here, 0o755)
        for f in files:
            p = os.path.join(here, f)
            os.chmod(p, 0o755 if os.stat(p).st_mode & 0o100 else 0o644)
    os.rename(tmp, final)
    return final


def renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux's renameat2 with RENAME_EXCHANGE); False where it is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(err, os.strerror(err), str(a))


def point(link: Path, target: Path, versions: Path) -> str | None:
    """Make ``link`` point at ``target`` in one rename; pip's folder found there is moved among the versions
    (its name there is returned)."""
    new = link.with_name(f".{PACKAGE}-{os.getpid()}.link")
    new.unlink(missing_ok=True)
    new.symlink_to(os.path.relpath(target, link.parent))
    if link.is_symlink() or not link.exists():
        os.replace(new, link)
        return None
    # pip's own folder: swapped with the link in one step where the kernel can, else moved aside first.
    old = versions / f"pip-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    old.mkdir()
    if renameat2_exchange(new, link):
        os.rename(new, old / PACKAGE)
    else:
        os.rename(link, old / PACKAGE)
        os.replace(new, link)
    # pip's record of it would let pip remove the current version's files through the link: it goes too.
    for info in link.parent.glob(f"{PACKAGE}-*.dist-info"):
        os.rename(info, old / info.name)
    return old.name


def console_script(venv: Path) -> None:
    """``VENV/bin/clusterkit``, written (atomically) only when it is not already this text."""
    path = venv / "bin" / PACKAGE
    text = CONSOLE_SCRIPT.format(python=venv / "bin" / "python")
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    tmp = path.with_name(f".{PACKAGE}-{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, path)


# ---------------------------------------------------------------- pruning

def held_open(versions: Path) -> set[str]:
    """The version folders of ``versions`` (by name) whose ``in-use`` file some process on this host holds open.

    By the whole path: another venv's folder of the same name (the same content hash, as a test's
    venv and the host's have) is not this one.
    """
    held = set()
    root = os.path.realpath(versions)
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            fds = list(fd_dir.iterdir())
        except OSError:               # gone, or another user's (a user's own venv is theirs alone)
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            folder, name = os.path.split(target)
            if name == IN_USE and os.path.dirname(folder) == root:
                held.add(os.path.basename(folder))
    return held


def prune(versions: Path, keep: set[str]) -> list[str]:
    """Remove the versions other than ``keep`` (the current one and the one before) that no process holds open."""
    folders = [d for d in versions.iterdir() if d.is_dir() and not d.name.startswith(".") and d.name not in keep]
    busy = held_open(versions) if folders else set()
    removed = []
    for d in sorted(folders):
        if d.name in busy:
            continue
        gone = versions / f".gone-{d.name}-{os.getpid()}"
        os.rename(d, gone)            # out of sight in one step, then deleted
        shutil.rmtree(gone, ignore_errors=True)
        removed.append(d.name)
    for left in versions.glob(".build-*"):   # an install that was interrupted
        if left.stat().st_mtime < time.time() - 3600:
            shutil.rmtree(left, ignore_errors=True)
    return removed


# ---------------------------------------------------------------- the two commands

def install(checkout: Path) -> str:
    """Install the checkout's clusterkit into this venv if it differs; one line saying what was done ("" when nothing)."""
    venv, sp = Path(sys.prefix), site_packages()
    if editable(sp):
        return ""
    versions = venv / VERSIONS
    versions.mkdir(mode=0o755, exist_ok=True)
    with open(versions / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        name, link = digest(checkout), sp / PACKAGE
        was = current(link)
        console_script(venv)
        if was == name and (versions / name / PACKAGE).is_dir():
            return ""
        target = build(checkout, versions, name)
        pips = point(link, target / PACKAGE, versions)
        removed = prune(versions, {name, pips or was or ""})   # the one before stays, whatever happens
        was = was or ("pip's copy" if pips else None)
    said = f"setup: clusterkit {name} installed" + (f" (was {was})" if was else "")
    return said + (f"; removed unused versions {', '.join(removed)}" if removed else "")


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "requirements":
        print("\n".join(requirements(Path(argv[1]), argv[2])))
        return 0
    if len(argv) == 2 and argv[0] == "install":
        said = install(Path(argv[1]).resolve())
        if said:
            print(said)
        return 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
