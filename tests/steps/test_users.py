"""Users on the local backend: the rename, one UID everywhere, the stale X authority, twice is a no-op."""

from __future__ import annotations

from clusterkit.steps import Users
from clusterkit.steps.base import BACKUP_SUFFIX
from clusterkit.lab.image import FRESH
from clusterkit.steps.users import xauth_entry, xauth_hosts

ODD = f"pc{FRESH.odd_index}"  # the node whose pi has another UID


def test_rename_pi_and_unify_the_uid(fresh):
    assert f"pi:x:{FRESH.odd_uid}:{FRESH.odd_uid}".encode() in fresh[ODD].read_file("/etc/passwd")
    plan = Users(fresh, name="alice", uid=1000, root_password="backup-door-1").plan()
    assert "usermod -l alice -d /home/alice -m pi" in [c.command for c in plan["pc0"].commands]
    assert "groupmod -n alice pi" in [c.command for c in plan["pc0"].commands]
    odd = [c.command for c in plan[ODD].commands]
    assert "usermod -l alice -d /home/alice -m -u 1000 pi" in odd and "groupmod -g 1000 alice" in odd
    assert any(c.startswith(f"find /home/alice -xdev -gid {FRESH.odd_uid}") for c in odd)
    assert not any(" -u " in c.command for c in plan["pc0"].commands)
    result = Users(fresh, name="alice", uid=1000, root_password="backup-door-1").apply(plan, progress=False)
    assert result.ok, result.text()
    ids = Users(fresh, name="alice", uid=1000).ids()
    assert ids.ok and len(ids.gathered()) == 1  # id identical on every node
    assert ids[ODD].stdout.startswith("uid=1000(alice) gid=1000(alice)")
    assert "27(sudo)" in ids[ODD].stdout
    for node in fresh:
        passwd = node.read_file("/etc/passwd").decode()
        assert "\npi:" not in passwd and "alice:x:1000:1000:,,,:/home/alice:/bin/bash" in passwd
        assert node.read_file("/etc/shadow").decode().startswith("root:$6$")  # the way back in
    # Notebook 01 run again: `id pi` fails everywhere now; with renamed_to each node says who pi became.
    from clusterkit.steps import ids as ids_of
    assert not ids_of(fresh, "pi").ok
    again = ids_of(fresh, "pi", renamed_to="alice")
    assert again.ok and len(again.gathered()) == 1, again.text()
    assert again["pc0"].stdout.startswith("no pi any more: renamed to alice (an earlier run of notebook 01); "
                                          "uid=1000(alice)")


def test_twice_changes_nothing_and_files_are_byte_identical(fresh, snapshot):
    Users(fresh, name="alice", uid=1000, root_password="backup-door-1").apply(progress=False)
    after_first = snapshot(fresh)
    step = Users(fresh, name="alice", uid=1000, root_password="another-one-2")
    assert step.plan().empty
    result = step.apply(progress=False)
    assert result.ok and all(not result.outcome(n).written for n in result)
    assert snapshot(fresh) == after_first


def test_stale_xauthority_removed_with_a_backup(fresh):
    old = fresh["pc1"].read_file("/home/pi/.Xauthority")
    assert xauth_hosts(old) == ["raspberrypi"]
    Users(fresh, name="alice", uid=1000, root_password="backup-door-1").apply(progress=False)
    assert fresh["pc1"].read_file("/home/pi/.Xauthority") is None
    assert fresh["pc1"].read_file("/home/pi/.Xauthority" + BACKUP_SUFFIX) == old


def test_an_xauthority_naming_another_host_is_stale_for_an_existing_user(fresh):
    Users(fresh, name="alice", uid=1000, root_password="backup-door-1").apply(progress=False)
    fresh["pc3"].write_file("/home/alice/.Xauthority", xauth_entry("raspberrypi"))
    fresh["pc0"].write_file("/home/alice/.Xauthority", xauth_entry("pc0"))
    plan = Users(fresh, name="alice", uid=1000).plan()
    assert [f.path for f in plan["pc3"].files] == ["/home/alice/.Xauthority"]
    assert plan["pc0"].empty


def test_no_user_to_rename_adds_one(fresh):
    plan = Users(fresh, name="bob", uid=1500, rename=None, root_password="backup-door-1").plan()
    cmds = [c.command for c in plan["pc1"].commands]
    assert "groupadd -g 1500 bob" in cmds and any(c.startswith("useradd -m -u 1500 -g 1500 -G sudo") for c in cmds)
    Users(fresh, name="bob", uid=1500, rename=None, root_password="backup-door-1").apply(plan, progress=False)
    assert b"bob:x:1500:1500" in fresh["pc1"].read_file("/etc/passwd")
    assert b"sudo:x:27:pi,bob" in fresh["pc1"].read_file("/etc/group")
    assert Users(fresh, name="bob", uid=1500, rename=None).plan().empty


def test_root_key_is_the_backup_way_in(fresh, tmp_path):
    import subprocess
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    key = (tmp_path / "k.pub").read_text()
    Users(fresh, name="alice", uid=1000, root_key=key).apply(progress=False)
    assert fresh["pc0"].read_file("/root/.ssh/authorized_keys").decode().strip() == key.strip()
    assert oct(fresh["pc0"].path("/root/.ssh/authorized_keys").stat().st_mode & 0o777) == "0o600"
    assert Users(fresh, name="alice", uid=1000, root_key=key).plan().empty
