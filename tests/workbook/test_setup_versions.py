"""scripts/setup.sh run again while kernels run: it changes nothing unless the package's files changed, and then
swaps the new version in whole; a version a running process uses stays until that process has ended.

Each test works on a copy of the checkout and a scratch venv of its own (its pip packages are the test venv's,
through a .pth file, so pip has nothing to fetch): the venv running the tests is left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_SITE = next(p for p in sys.path if p.startswith(sys.prefix) and p.endswith("site-packages"))


def copy_checkout(dest: Path) -> Path:
    for part in ("clusterkit", "scripts", "vendor"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


@pytest.fixture
def place(tmp_path):
    """A copy of the checkout, a scratch venv (the test venv's packages through a .pth) and the setup command."""
    checkout = copy_checkout(tmp_path / "checkout")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (site / "test-venv.pth").write_text(TEST_SITE + "\n")
    env = dict(os.environ, CLUSTERKIT_VENV=str(venv), CLUSTERKIT_BIN=str(tmp_path / "bin"),
               PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")

    def setup() -> str:
        p = subprocess.run(["bash", str(checkout / "scripts" / "setup.sh"), "test"], env=env, capture_output=True,
                           text=True, timeout=600)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout

    return checkout, venv, site, setup


def state(venv: Path, site: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of the package link, of every file and folder of the versions, and of the command."""
    out = {}
    for p in [site / "clusterkit", venv / "bin" / "clusterkit", *sorted((venv / "clusterkit-versions").rglob("*"))]:
        s = p.lstat()
        out[str(p)] = (s.st_ino, s.st_mtime_ns)
    return out


def run_in(venv: Path, code: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd="/", capture_output=True, text=True,
                          timeout=120, **kw)


def test_setup_twice_changes_nothing_and_a_touched_file_is_no_change(place):
    checkout, venv, site, setup = place
    first = setup()
    assert "setup: clusterkit " in first and "installed (was pip's copy)" not in first
    assert (site / "clusterkit").is_symlink()
    before = state(venv, site)
    assert setup() == ""
    assert state(venv, site) == before
    # A file's time changes (an editor's save of the same text, a checkout of the same branch): still nothing.
    os.utime(checkout / "clusterkit" / "errors.py")
    assert setup() == ""
    assert state(venv, site) == before
    who = run_in(venv, "import clusterkit, clusterkit.cluster; print(clusterkit.__path__[0])")
    assert who.returncode == 0, who.stderr
    assert who.stdout.strip().startswith(str(venv / "clusterkit-versions") + "/")


#: Lists the package non-stop until a stop file appears: how many looks, how many found it half there.
WATCH = textwrap.dedent("""
    import os, sys, time
    pkg, wanted, stop = sys.argv[1], set(sys.argv[2].split(",")), sys.argv[3]
    print("watching", flush=True)
    seen, bad, end = 0, [], time.monotonic() + 600
    while time.monotonic() < end and not os.path.exists(stop):
        try:
            names = set(os.listdir(pkg))
            ok = wanted <= names and os.path.getsize(os.path.join(pkg, "backends", "ssh.py")) > 0
        except OSError as e:
            ok, names = False, str(e)
        seen += 1
        if not ok:
            bad.append(str(names)[:200])
    print(seen, len(bad), bad[:3])
    """)


def test_a_changed_file_is_swapped_in_whole_and_a_running_process_keeps_its_version(place):
    checkout, venv, site, setup = place
    setup()
    versions = venv / "clusterkit-versions"
    first = set(os.listdir(versions)) - {".lock"}
    # A kernel that runs the first version, and imports more of it later.
    kernel = subprocess.Popen([str(venv / "bin" / "python"), "-c", textwrap.dedent("""
        import importlib, sys, clusterkit
        print(clusterkit.__path__[0], flush=True)
        for line in sys.stdin:
            try:
                importlib.import_module(line.strip())
                print("imported", flush=True)
            except ImportError as e:
                print("missing", flush=True)
        """)], cwd="/", stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    watcher = None
    try:
        old_path = kernel.stdout.readline().strip()
        # A new module (as a pull brings): setup swaps the version while a watcher lists the package non-stop.
        (checkout / "clusterkit" / "probe_new.py").write_text("HERE = True\n")
        wanted = ",".join(sorted(os.listdir(site / "clusterkit")))
        stop = checkout / "stop-watching"
        watcher = subprocess.Popen([sys.executable, "-c", WATCH, str(site / "clusterkit"), wanted, str(stop)],
                                   stdout=subprocess.PIPE, text=True)
        assert watcher.stdout.readline() == "watching\n"
        said = setup()
        stop.touch()
        seen, bad = watcher.communicate(timeout=60)[0].split(" ", 2)[:2]
        assert int(seen) > 100 and bad == "0", f"the package was half there {bad} times of {seen}"
        assert said.startswith("setup: clusterkit ") and "installed (was " in said
        fresh = run_in(venv, "import clusterkit.probe_new, clusterkit; print(clusterkit.__path__[0])")
        assert fresh.returncode == 0, fresh.stderr
        assert fresh.stdout.strip() != old_path
        # The running kernel goes on importing its own version: the new module is not there for it, the rest is.
        kernel.stdin.write("clusterkit.probe_new\nclusterkit.workloads\n")
        kernel.stdin.flush()
        assert [kernel.stdout.readline(), kernel.stdout.readline()] == ["missing\n", "imported\n"]
        # Two more changes: the kernel's version is neither current nor the one before, but it is held: kept.
        for n in (2, 3):
            (checkout / "clusterkit" / "probe_new.py").write_text(f"HERE = {n}\n")
            setup()
        assert Path(old_path).is_dir()
        assert first <= set(os.listdir(versions))
    finally:
        kernel.stdin.close()
        kernel.wait(timeout=30)
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    # Once the kernel has ended, the next change removes its version; the current one and the one before stay.
    (checkout / "clusterkit" / "probe_new.py").write_text("HERE = 4\n")
    said = setup()
    assert "removed unused versions" in said
    assert not Path(old_path).exists()
    assert len(set(os.listdir(versions)) - {".lock"}) == 2
    again = run_in(venv, "import clusterkit.probe_new as p; print(p.HERE)")
    assert again.stdout.strip() == "4", again.stderr


def test_pip_s_own_install_is_taken_over_in_one_swap(place):
    """A venv from before (pip installed clusterkit as a folder): the folder is exchanged with the link in one
    step and pip's record of it goes with it, so pip can never remove the new version's files through the link."""
    checkout, venv, site, setup = place
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps",
                        str(checkout)], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        pytest.skip(f"pip could not build clusterkit here: {p.stderr[-300:]}")
    assert (site / "clusterkit").is_dir() and not (site / "clusterkit").is_symlink()
    said = setup()
    assert "installed (was pip's copy)" in said
    assert (site / "clusterkit").is_symlink()
    assert not list(site.glob("clusterkit-*.dist-info"))
    moved = [d for d in (venv / "clusterkit-versions").iterdir() if d.name.startswith("pip-")]
    assert len(moved) == 1 and (moved[0] / "clusterkit" / "__init__.py").is_file()
    ok = run_in(venv, "import clusterkit.cluster; print('ok')")
    assert ok.stdout.strip() == "ok", ok.stderr
    assert subprocess.run([str(venv / "bin" / "clusterkit"), "--help"], capture_output=True,
                          timeout=120).returncode == 0
