"""The user-namespace lab's parts that need no namespace: root's range (found, or added and said), the node's
files given the namespace's host ids, and its boot script's shape."""

from __future__ import annotations

import os

import pytest

from clusterkit.errors import ClusterkitError
from clusterkit.lab import node, rootless, rootless_node, userns


def test_root_ids_come_from_roots_range(tmp_path):
    for name in ("subuid", "subgid"):
        (tmp_path / name).write_text("alice:100000:65536\nroot:300000:65536\n")
    said = []
    ids = rootless.root_ids(subuid=tmp_path / "subuid", subgid=tmp_path / "subgid", log=said.append)
    assert (ids.uids.to_host(0), ids.gids.to_host(65535)) == (300000, 365535)
    assert said == []


def test_a_missing_range_for_root_is_added_above_the_others_and_said(tmp_path):
    (tmp_path / "subuid").write_text("alice:100000:65536")         # no newline at the end
    (tmp_path / "subgid").write_text("alice:100000:65536\nbob:165536:65536\n")
    said = []
    ids = rootless.root_ids(subuid=tmp_path / "subuid", subgid=tmp_path / "subgid", log=said.append)
    assert ids.uids.to_host(0) == ids.gids.to_host(0) == 231072
    assert (tmp_path / "subuid").read_text() == "alice:100000:65536\nroot:231072:65536\n"
    assert (tmp_path / "subgid").read_text().endswith("bob:165536:65536\nroot:231072:65536\n")
    assert len(said) == 1 and "root:231072:65536" in said[0] and str(tmp_path / "subuid") in said[0]


def test_a_too_small_range_for_root_is_refused_not_rewritten(tmp_path):
    for name in ("subuid", "subgid"):
        (tmp_path / name).write_text("root:300000:1000\n")
    with pytest.raises(ClusterkitError) as e:
        rootless.root_ids(subuid=tmp_path / "subuid", subgid=tmp_path / "subgid", log=print)
    assert e.value.field == "subuid"
    assert (tmp_path / "subuid").read_text() == "root:300000:1000\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_shift_owners_moves_every_file_into_the_range_and_marks_opaque_folders(tmp_path):
    top = tmp_path / "node"
    (top / "etc" / "system").mkdir(parents=True)
    (top / "home").mkdir()
    os.chown(top / "home", 1000, 1000)
    (top / "etc" / "passwd").write_text("x")
    os.symlink("/nowhere", top / "etc" / "link")
    os.setxattr(top / "etc" / "system", "trusted.overlay.opaque", b"y")
    rootless_node.shift_owners(top, base=(300000, 400000))
    owners = {p.name: (os.lstat(p).st_uid, os.lstat(p).st_gid) for p in [top, *top.rglob("*")]}
    assert owners == {"node": (300000, 400000), "etc": (300000, 400000), "system": (300000, 400000),
                      "home": (301000, 401000), "passwd": (300000, 400000), "link": (300000, 400000)}
    assert os.getxattr(top / "etc" / "system", "user.overlay.opaque") == b"y"


def test_the_boot_builds_its_own_root_then_starts_todays_services():
    boot = rootless_node.BOOT
    assert boot.index("pivot_root . .old") < boot.index("umount -l /.old") < boot.index("set +e")
    assert "userxattr" in boot and "lowerdir=$I/usr:/usr" in boot
    assert boot.endswith(node.BOOT[node.BOOT.index("set +e\n"):])      # the same services as today's lab
    assert "--user=\"$U\"" in rootless_node.SUPERVISE and "--cgroup" in rootless_node.SUPERVISE
    assert userns.SIZE == 65536


def test_a_map_of_more_than_one_range_is_held_the_general_way(monkeypatch):
    ranges = [userns.Range(300000, 1000), userns.Range(400000, 64536)]
    ids = userns.LabIds(owner="root", uid=0, uids=userns.root_map(ranges), gids=userns.root_map(ranges))
    assert len(ids.uids.extents) == 2
    held = []
    monkeypatch.setattr(userns, "hold", lambda got: held.append(got) or "general")
    assert rootless.hold(ids) == "general" and held == [ids]


def test_the_image_key_follows_etc_and_the_packages_but_not_what_var_holds(tmp_path):
    from clusterkit.lab import rootless_node
    for d in ("etc/ssh", "var/log", "var/lib/dpkg"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "etc/hostname").write_text("a\n")
    (tmp_path / "var/lib/dpkg/status").write_text("Package: x\n")
    key = rootless_node.image_key((100000, 100000), root=tmp_path)
    assert rootless_node.image_key((100000, 100000), root=tmp_path) == key
    (tmp_path / "var/log/syslog").write_text("a line\n")          # a file in /var: not in the image
    assert rootless_node.image_key((100000, 100000), root=tmp_path) == key
    assert rootless_node.image_key((200000, 200000), root=tmp_path) != key   # another range owns it
    (tmp_path / "var/lib/new-service").mkdir()                     # a folder a service made: not a package
    assert rootless_node.image_key((100000, 100000), root=tmp_path) == key
    (tmp_path / "etc/ssh/sshd_config").write_text("Port 22\n")     # a new file in /etc
    key2 = rootless_node.image_key((100000, 100000), root=tmp_path)
    assert key2 != key
    (tmp_path / "etc/hostname").write_text("bb\n")                 # /etc's contents
    key3 = rootless_node.image_key((100000, 100000), root=tmp_path)
    assert key3 != key2
    (tmp_path / "var/lib/dpkg/status").write_text("Package: x\nPackage: y\n")   # a package installed
    assert rootless_node.image_key((100000, 100000), root=tmp_path) != key3
