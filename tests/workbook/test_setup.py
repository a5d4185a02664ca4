"""After scripts/setup.sh, `clusterkit` runs from a fresh login shell, for root and for a normal user."""

import os
import pwd
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)            # the venv running these tests; setup.sh finds it up to date
LINK = Path("/usr/local/bin/clusterkit")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def setup_sh(env=None):
    env = dict(os.environ if env is None else env, CLUSTERKIT_VENV=str(VENV))
    p = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh"), "test"], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


@needs_root
def test_root_gets_clusterkit_in_a_fresh_login_shell(tmp_path):
    before = os.readlink(LINK) if LINK.is_symlink() else ("file" if LINK.exists() else None)
    ours = str(VENV / "bin" / "clusterkit")
    try:
        out = setup_sh()
        if before not in (None, ours) and (before == "file" or Path(before).exists()):
            # Another clusterkit (a file, or another venv that exists) is never clobbered.
            assert f"left {LINK} alone" in out
            assert (os.readlink(LINK) if LINK.is_symlink() else "file") == before
            return
        assert os.readlink(LINK) == ours
        shell = subprocess.run(["env", "-i", f"PATH={DEFAULT_PATH}", "HOME=/root", "bash", "-lc",
                                f"command -v clusterkit && CLUSTERKIT_SANDBOX={tmp_path}/sb "
                                "clusterkit nodes --backend local"],
                               capture_output=True, text=True, timeout=120)
        assert shell.returncode == 0, shell.stdout + shell.stderr
        assert shell.stdout.splitlines()[0] == str(LINK) and "pc: pc[0-3]" in shell.stdout
        assert setup_sh() == out    # a second run changes nothing and says the same
    finally:
        if before is None and LINK.is_symlink():
            LINK.unlink()           # leave this machine as the test found it


@needs_root
def test_a_foreign_clusterkit_is_left_alone(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "clusterkit").write_text("#!/bin/sh\necho someone else's\n")
    out = setup_sh(dict(os.environ, CLUSTERKIT_BIN=str(bin_dir)))
    assert f"left {bin_dir}/clusterkit alone" in out
    assert (bin_dir / "clusterkit").read_text() == "#!/bin/sh\necho someone else's\n"
    # A link into a venv that is gone is replaced.
    (bin_dir / "clusterkit").unlink()
    (bin_dir / "clusterkit").symlink_to(tmp_path / "gone" / "bin" / "clusterkit")
    setup_sh(dict(os.environ, CLUSTERKIT_BIN=str(bin_dir)))
    assert os.readlink(bin_dir / "clusterkit") == str(VENV / "bin" / "clusterkit")


@needs_root
@pytest.mark.skipif(not shutil.which("useradd"), reason="needs useradd")
def test_a_normal_user_gets_clusterkit_in_a_fresh_login_shell():
    user = "ckt" + secrets.token_hex(3)     # a throwaway user, removed with its home below
    # A UID of its own: lab nodes run processes as UIDs their /etc/passwd names (pi is 1000 or
    # 1001), which userdel would take for this user's and refuse.
    taken = {u.pw_uid for u in pwd.getpwall()}
    uid = next(u for u in range(61000 + secrets.randbelow(3000), 65000) if u not in taken)
    subprocess.run(["useradd", "-m", "-u", str(uid), "-s", "/bin/bash", user], check=True)
    try:
        def as_user(command):
            return subprocess.run(["su", "-l", user, "-c", command], capture_output=True, text=True, timeout=600)
        if as_user(f"test -r {ROOT}/scripts/setup.sh -a -x {VENV}/bin/python").returncode:
            pytest.skip("the checkout or the venv is not readable by other users")
        # Sharing the venv root made (as a workshop does): setup uses it as it is.
        p = as_user(f"CLUSTERKIT_VENV={VENV} bash {ROOT}/scripts/setup.sh test")
        assert p.returncode == 0, p.stdout + p.stderr
        assert f"using {VENV} as it is" in p.stdout
        home = Path(f"~{user}").expanduser()
        assert os.readlink(home / ".local/bin/clusterkit") == str(VENV / "bin" / "clusterkit")
        # The login shell that ran setup began before ~/.local/bin existed: setup says so.
        assert "~/.local/bin" in p.stdout and "not on this shell's PATH" in p.stdout
        shell = as_user("bash -lc 'command -v clusterkit && CLUSTERKIT_SANDBOX=$HOME/sb clusterkit nodes --backend local'")
        assert shell.returncode == 0, shell.stdout + shell.stderr
        assert shell.stdout.splitlines()[0] == f"{home}/.local/bin/clusterkit" and "pc: pc[0-3]" in shell.stdout
    finally:
        # -f: a lab node's process may use the same UID; it is not this user's and is left running.
        gone = subprocess.run(["userdel", "-r", "-f", user], capture_output=True, text=True)
    assert gone.returncode == 0, gone.stderr


def test_the_venv_runs_this_checkout_after_setup():
    """Kernels and lab nodes import clusterkit from the venv, never from a checkout's folder: after setup.sh
    (run from this checkout, as test.sh runs it) the venv's clusterkit is this checkout's, file for file."""
    setup_sh()
    where = subprocess.run([str(VENV / "bin" / "python"), "-I", "-c",
                            "import clusterkit, os; print(os.path.dirname(clusterkit.__file__))"],
                           cwd="/", capture_output=True, text=True, check=True).stdout.strip()
    for f in sorted((ROOT / "clusterkit").rglob("*.py")):
        installed = Path(where) / f.relative_to(ROOT / "clusterkit")
        assert installed.read_bytes() == f.read_bytes(), f"{installed} is not this checkout's {f}"
