"""A lab brought up by a normal user, no sudo (:mod:`clusterkit.lab.userlab`): it works from inside its own
network (``clusterkit lab enter``), ``lab status`` names its owner, and ``lab down`` leaves nothing of it: no
process, user namespace, mount or file, on the host or in the user's folders.

As root, the test makes a throwaway user with a subordinate range of its own (no range of useradd's: ``-K
SUB_UID_COUNT=0``) and removes it at the end, with its lines in ``/etc/subuid``, ``/etc/subgid`` and their
``-`` backups. The user runs a copy of this clusterkit (in a folder it may read) with this Python.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import clusterkit
from clusterkit.lab import userns
import learners
from labnames import LAB_MARKS, TAG, lab_name

pytestmark = LAB_MARKS

USER = "cklabt" + TAG


@pytest.fixture(scope="module")
def normal_user():
    """(name, uid, gid, range start, a copy of clusterkit it may read): a throwaway user with 65536 ids."""
    if os.geteuid() != 0:
        pytest.skip("makes a throwaway user: run as root")
    if shutil.which("newuidmap") is None:
        pytest.fail("uidmap is missing (apt-get install uidmap)")
    uid, gid, first, _home = learners.add(USER)
    code = None
    try:
        # Not under pytest's folder: another pytest session of root makes /tmp/pytest-of-root 0700 again.
        code = Path(tempfile.mkdtemp(prefix="cklabt-code-"))
        code.chmod(0o755)
        shutil.copytree(Path(clusterkit.__file__).parent, code / "clusterkit",
                        ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run(["chmod", "-R", "a+rX", str(code)], check=True)
        yield USER, uid, gid, first, code
    finally:
        learners.remove(USER)
        if code is not None:
            shutil.rmtree(code, ignore_errors=True)


def as_user(user, code: Path, args: list[str], *, path: str | None = None, timeout: float = 180):
    name, uid, gid = user[:3]
    env = {"HOME": pwd.getpwnam(name).pw_dir if name != "nobody" else "/nonexistent", "USER": name,
           "LOGNAME": name, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1",
           "PATH": path or f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"}   # a Debian user's: no sbin
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return subprocess.run([setpriv, f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", *args],
                          env=env, cwd="/", capture_output=True, text=True, timeout=timeout)


def clusterkit_cli(user, code, *args, **kw):
    return as_user(user, code, [sys.executable, "-m", "clusterkit.cli", *args], **kw)


def leftovers(uid: int, first: int) -> list[str]:
    """Processes of the user or of its range (a root lab's node may have a user of the same uid: those are in
    the host's user namespace and a PID namespace of their own, and are not counted), mounts naming its home,
    files of its range."""
    found = []
    host_userns, host_pidns = os.readlink("/proc/self/ns/user"), os.readlink("/proc/self/ns/pid")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        state = next(line.split()[1] for line in status.splitlines() if line.startswith("State:"))
        host = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))
        try:
            theirs = (os.readlink(f"/proc/{entry}/ns/user") != host_userns
                      or os.readlink(f"/proc/{entry}/ns/pid") == host_pidns)
        except OSError:
            continue
        if state != "Z" and (host == uid or first <= host < first + userns.SIZE) and theirs:
            found.append(f"process {entry} (uid {host}): {Path(f'/proc/{entry}/cmdline').read_bytes()[:80]!r}")
    home = pwd.getpwuid(uid).pw_dir
    found += [f"mount {line.split()[4]}" for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if home in line]
    for top in (home, "/tmp", "/dev/shm", "/run"):
        for dirpath, dirnames, filenames in os.walk(top):
            # pytest's own folders hold unit tests' files with made-up owners (300000 and up)
            dirnames[:] = [d for d in dirnames if not (dirpath == "/tmp" and d.startswith("pytest-of-"))]
            for n in dirnames + filenames:
                p = os.path.join(dirpath, n)
                try:
                    owner = os.lstat(p).st_uid
                except OSError:
                    continue
                if first <= owner < first + userns.SIZE:
                    found.append(f"file {p} (uid {owner})")
    return found


def test_a_normal_users_lab_works_from_inside_and_leaves_nothing(normal_user):
    user, code = normal_user, normal_user[4]
    which = as_user(user, code, [sys.executable, "-c", "import clusterkit; print(clusterkit.__file__)"])
    assert which.stdout.startswith(str(code)), which   # this clusterkit, not an installed one
    name, uid, first = user[0], user[1], user[3]
    lab = lab_name("tuu")
    up = clusterkit_cli(user, code, "lab", "up", "--name", lab, "-n", "2")
    try:
        assert up.returncode == 0, up.stderr + up.stdout
        assert f"owner {name}" in up.stdout
        labs = Path(pwd.getpwnam(name).pw_dir) / ".local/state/clusterkit/labs"
        assert (labs / lab / "lab.json").is_file()
        assert (labs.stat().st_mode & 0o777) == 0o700 and (labs / lab).stat().st_uid == uid
        status = clusterkit_cli(user, code, "lab", "status", "--name", lab)
        assert status.returncode == 0 and f"owner {name}" in status.stdout and status.stdout.count("answers") == 2
        # Root sees nothing of it on the host's side: no link, no named namespace.
        assert lab not in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        probe = textwrap.dedent("""
            import os, clusterkit
            print("me", os.getuid(), os.environ["HOME"])
            with clusterkit.connect() as c:
                for node, r in sorted(c.run("id -un; sudo -n true 2>/dev/null || echo PW; cat /proc/self/uid_map").items()):
                    print(node, r.exit_code, " ".join(r.stdout.split()))
        """)
        inside = clusterkit_cli(user, code, "lab", "enter", "--name", lab, "--", sys.executable, "-c", probe)
        assert inside.returncode == 0, inside.stderr
        lines = inside.stdout.splitlines()
        assert lines[0] == f"me {uid} {pwd.getpwnam(name).pw_dir}"   # the workbook is the user itself in there
        for i, line in enumerate(lines[1:3]):
            fields = line.split()
            assert fields[:3] == [f"{lab}{i}", "0", "pi"]
            # the node's map: its root is the user, 1..65535 (pi 1000: host first + 999) are the user's range
            assert fields[-6:] == ["0", str(uid), "1", "1", str(first), "65535"]
    finally:
        down = clusterkit_cli(user, code, "lab", "down", "--name", lab)
    assert down.returncode == 0, down.stderr
    assert not (Path(pwd.getpwnam(name).pw_dir) / ".local/state/clusterkit/labs" / lab).exists()
    left = []
    for _ in range(100):   # zombies of the lab's processes are reaped by PID 1 a moment later
        left = leftovers(uid, first)
        if not left:
            break
        import time
        time.sleep(0.1)
    assert left == []


def test_no_range_and_no_newuidmap_are_refused_naming_the_field_and_the_fix(normal_user, tmp_path):
    user, code = normal_user, normal_user[4]
    nobody = ("nobody", 65534, 65534)
    r = clusterkit_cli(nobody, code, "lab", "up", "--name", lab_name("tun"))
    assert r.returncode != 0
    assert "subuid" in r.stderr and "usermod --add-subuids" in r.stderr and "nobody" in r.stderr
    # no newuidmap on the PATH: the uidmap package is named
    r = clusterkit_cli(user, code, "lab", "up", "--name", lab_name("tun"), path=str(Path(sys.executable).parent))
    assert r.returncode != 0
    assert "newuidmap" in r.stderr and "uidmap" in r.stderr
