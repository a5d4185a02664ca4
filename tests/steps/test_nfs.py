"""The NFS step on the local backend: export, worker fstab behind the guard, idempotence, rollback, bad input."""

from __future__ import annotations

import subprocess

import pytest

from clusterkit import steps
from clusterkit.backends.platform import BOARD_PLATFORM
from clusterkit.results import NodeResult
from clusterkit.steps import fstab, nfs, nfsconf
from clusterkit.steps.base import BACKUP_SUFFIX
from clusterkit.steps.nfs import Nfs

ALL = "pc[0-3]"


@pytest.fixture
def one_uid(fresh):
    """The fresh image after notebook 01: alice has UID 1000 on every node."""
    assert steps.Users(fresh, name="alice", uid=1000, root_key=steps.rescue_key(fresh)).apply(progress=False).ok
    return fresh


def test_refused_while_uids_differ(fresh, snapshot):
    before = snapshot(fresh)
    with pytest.raises(steps.StepError) as err:
        Nfs(fresh).apply(progress=False)
    assert err.value.node == "pc1" and err.value.field == "uid"
    assert "notebook 01" in err.value.message and "'pi'" in err.value.message
    assert snapshot(fresh) == before


def test_export_and_mounts_then_nothing_left(one_uid, snapshot):
    step = Nfs(one_uid, owner="alice")
    plan = step.plan()
    exports = plan["pc0"].file("/etc/exports").new.decode()
    assert "/srv/shared 10.0.0.0/24(rw,sync,no_subtree_check,root_squash)" in exports
    for w in ("pc1", "pc2", "pc3"):
        actions = plan[w].actions
        kinds = [getattr(a, "path", None) or a.command for a in actions]
        mount_at = next(i for i, k in enumerate(kinds) if "mount -t nfs4" in k)
        assert kinds.index("/etc/fstab") > mount_at, "the mount is tried before the line is persisted"
        line = plan[w].file("/etc/fstab").new.decode().splitlines()[-1]
        assert line.startswith("pc0:/srv/shared /srv/shared nfs4 ")
        for opt in ("nofail", "_netdev", "x-systemd.automount", "x-systemd.mount-timeout=10s"):
            assert opt in line.split()[3].split(",")
    result = step.apply(plan, progress=False)
    assert result.ok, result.text()
    assert any("exportfs -ra" in c for c in result.outcome("pc0").would_run)
    after = snapshot(one_uid)
    again = Nfs(one_uid, owner="alice")
    assert again.plan().empty
    assert again.apply(progress=False).ok
    assert snapshot(one_uid) == after


def test_no_root_squash_only_when_asked(one_uid):
    text = Nfs(one_uid, root_squash=False).plan()["pc0"].file("/etc/exports").new.decode()
    assert "(rw,sync,no_subtree_check,no_root_squash)" in text


def test_rollback_puts_the_old_fstab_back(one_uid):
    original = {w: one_uid[w].read_file("/etc/fstab") for w in ("pc1", "pc2", "pc3")}
    step = Nfs(one_uid)
    assert step.apply(progress=False).ok
    for w, data in original.items():
        assert one_uid[w].read_file("/etc/fstab") != data
        assert one_uid[w].read_file("/etc/fstab" + BACKUP_SUFFIX) == data
    assert step.rollback().ok
    for w, data in original.items():
        assert one_uid[w].read_file("/etc/fstab") == data


def test_local_backend_says_share_checks_are_not_run(one_uid):
    step = Nfs(one_uid)
    step.apply(progress=False)
    rt = step.roundtrip()
    assert {r.status for r in rt.values()} == {"refused"}
    assert "local backend has no NFS" in rt.text()
    assert {r.status for r in step.nfs_ls().values()} == {"refused"}


# ---------------------------------------------------------------- the fstab guard with broken candidates

BASE = "proc /proc proc defaults 0 0\n"
BROKEN = {
    "unknown fs type": BASE + "pc0:/srv/shared /srv/shared nfs5 rw,nofail 0 0\n",
    "unknown option": BASE + "pc0:/srv/shared /srv/shared nfs4 rw,nofial,_netdev 0 0\n",
    "relative mount point": BASE + "pc0:/srv/shared srv/shared nfs4 rw,nofail 0 0\n",
    "too few fields": BASE + "pc0:/srv/shared /srv/shared\n",
    "too many fields": BASE + "pc0:/srv/shared /srv/shared nfs4 rw 0 0 extra\n",
    "dump not a number": BASE + "pc0:/srv/shared /srv/shared nfs4 rw x 0\n",
    "mount point twice": BASE + "pc0:/srv/shared /proc nfs4 rw,nofail 0 0\n",
    "bad timeout": BASE + "pc0:/srv/shared /srv/shared nfs4 rw,x-systemd.mount-timeout=soon 0 0\n",
    "empty option": BASE + "pc0:/srv/shared /srv/shared nfs4 rw,,nofail 0 0\n",
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_guard_refuses_broken_candidates(case):
    with pytest.raises(steps.StepError) as err:
        fstab.guard(BASE, BROKEN[case], node_name="pc1", creates=("/srv/shared",))
    assert err.value.node == "pc1" and err.value.field == "/etc/fstab"
    assert "nothing was installed" in err.value.message


def test_guard_blames_only_what_the_candidate_adds():
    old = BASE + "UUID=0000-dead /data ext4 defaults 0 2\n"  # a disk this machine does not have
    verdict = fstab.guard(old, old + "pc0:/srv/shared /srv/shared nfs4 rw,nofail 0 0\n", node_name="pc1",
                          creates=("/srv/shared",))
    assert verdict.ok and verdict.already and "findmnt" in verdict.checked_by


def test_findmnt_parse_errors_are_errors():
    found = fstab.findmnt_check("this is not an fstab line\n")
    assert found is not None and any("parse error" in f.message and f.level == "error" for f in found)


class BoardLike:
    """A node whose Platform is a board's: findmnt runs "on" it (here, through a shell), and each run is counted."""

    platform = BOARD_PLATFORM
    name = "pc1"

    def __init__(self):
        self.scripts = []

    def run(self, script, *, stdin=None, timeout=None):
        self.scripts.append(script)
        r = subprocess.run(["sh", "-c", script], input=stdin, capture_output=True, text=True, timeout=timeout)
        return NodeResult.from_exit(self.name, r.returncode, r.stdout, r.stderr, 0.0, command=script)


def test_the_guard_checks_on_the_node_where_its_platform_checks_there():
    node = BoardLike()
    verdict = fstab.guard(BASE, BASE + "pc0:/srv/shared /srv/shared nfs4 rw,nofail 0 0\n", node_name="pc1",
                          node=node, creates=("/srv/shared",))
    assert verdict.checked_by.startswith("findmnt --verify on the node")
    assert len(node.scripts) == 2 and all("findmnt --verify" in s for s in node.scripts)  # the candidate, the old


def test_the_guard_checks_a_sandbox_candidate_on_this_machine(fresh):
    verdict = fstab.guard(BASE, BASE + "pc0:/srv/shared /srv/shared nfs4 rw,nofail 0 0\n", node_name="pc1",
                          node=fresh["pc1"], creates=("/srv/shared",))
    assert verdict.checked_by.startswith("findmnt --verify on this machine")


@pytest.mark.parametrize("case", ["bad option", "bad type"])
def test_a_broken_candidate_is_never_installed(one_uid, snapshot, monkeypatch, case):
    if case == "bad option":
        monkeypatch.setattr(nfsconf, "SAFE_MOUNT", ("rw", "nofial", "_netdev"))
    else:
        monkeypatch.setattr(nfs, "fstab_line", lambda **kw: "pc0:/srv/shared /srv/shared nfs5 rw,nofail 0 0")
    before = snapshot(one_uid)
    with pytest.raises(steps.StepError) as err:
        Nfs(one_uid).apply(progress=False)
    assert err.value.field == "/etc/fstab" and err.value.node == "pc1"
    assert snapshot(one_uid) == before  # every fstab byte-identical, nothing else written either


def test_an_existing_line_at_the_mount_point_is_not_overwritten(one_uid, snapshot):
    one_uid["pc2"].write_file("/etc/fstab", one_uid["pc2"].read_file("/etc/fstab") +
                              b"/dev/sda1 /srv/shared ext4 defaults 0 2\n")
    before = snapshot(one_uid)
    with pytest.raises(steps.StepError) as err:
        Nfs(one_uid).apply(progress=False)
    assert (err.value.node, err.value.field) == ("pc2", "mount")
    assert snapshot(one_uid) == before
