"""A lab's user namespace, with no namespace made: the subordinate ranges, the maps, what is written where."""

from __future__ import annotations

import subprocess

import pytest

from clusterkit.errors import ClusterkitError
from clusterkit.lab import userns
from clusterkit.lab.userns import Extent, IdMap, Range

SUBUID = """\
# written by useradd
alice:100000:65536
bob:165536:65536
1003:231072:65536
carol:notanumber:65536
carol:296608
dave:296608:1000
dave:400000:70000
"""


def test_ranges_are_found_by_name_or_by_numeric_id_and_bad_lines_are_passed_over():
    assert userns.parse(SUBUID, name="alice", ident=1001) == [Range(100000, 65536)]
    assert userns.parse(SUBUID, name="erin", ident=1003) == [Range(231072, 65536)]
    assert userns.parse(SUBUID, name="carol", ident=1004) == []
    assert userns.parse(SUBUID, name="dave", ident=1005) == [Range(296608, 1000), Range(400000, 70000)]
    assert Range(100000, 65536).end == 165535


def test_a_users_lab_maps_its_root_to_the_user_and_the_rest_to_its_range():
    m = userns.user_map(1001, [Range(100000, 65536)])
    assert m.extents == (Extent(0, 1001, 1), Extent(1, 100000, 65535))
    assert m.size == userns.SIZE
    assert m.text() == "0 1001 1\n1 100000 65535\n"
    assert m.args() == ["0", "1001", "1", "1", "100000", "65535"]
    # pi (1000) and slurm (64030) are distinct unprivileged host ids; the user's own id is the node's root
    assert (m.to_host(0), m.to_host(1000), m.to_host(64030), m.to_host(65536)) == (1001, 100999, 164029, None)
    assert (m.to_inside(1001), m.to_inside(100999), m.to_inside(0)) == (0, 1000, None)


def test_several_ranges_fill_the_map_in_order_and_too_few_ids_are_refused():
    m = userns.user_map(1005, [Range(296608, 1000), Range(400000, 70000)])
    assert m.extents == (Extent(0, 1005, 1), Extent(1, 296608, 1000), Extent(1001, 400000, 64535))
    with pytest.raises(ClusterkitError) as e:
        userns.user_map(1005, [Range(296608, 1000)])
    assert e.value.field == "subuid" and "1000 ids" in str(e.value) and "65535" in str(e.value)
    with pytest.raises(ClusterkitError) as e:
        userns.user_map(100500, [Range(100000, 65536)], what="gid")
    assert e.value.field == "subgid" and "own gid 100500" in str(e.value)


def test_a_root_lab_maps_every_id_to_roots_range():
    m = userns.root_map([Range(300000, 65536)])
    assert m.extents == (Extent(0, 300000, 65536),)
    assert m.to_host(0) == 300000 and m.to_inside(0) is None


def test_the_callers_ids_come_from_both_files(tmp_path):
    (tmp_path / "subuid").write_text(SUBUID)
    (tmp_path / "subgid").write_text("alice:500000:65536\n")
    ids = userns.for_caller(uid=1001, gid=1001, name="alice", subuid=tmp_path / "subuid", subgid=tmp_path / "subgid")
    assert ids.owner == "alice" and not ids.by_root
    assert ids.uids.text() == "0 1001 1\n1 100000 65535\n"
    assert ids.gids.text() == "0 1001 1\n1 500000 65535\n"
    (tmp_path / "subuid").write_text("root:300000:65536\n")
    (tmp_path / "subgid").write_text("root:300000:65536\n")
    ids = userns.for_caller(uid=0, gid=0, name="root", subuid=tmp_path / "subuid", subgid=tmp_path / "subgid")
    assert ids.by_root and ids.uids.text() == ids.gids.text() == "0 300000 65536\n"


def test_a_user_without_a_range_is_told_the_line_root_would_add(tmp_path):
    (tmp_path / "subuid").write_text(SUBUID)
    with pytest.raises(ClusterkitError) as e:
        userns.for_caller(uid=1010, gid=1010, name="frank", subuid=tmp_path / "subuid", subgid=tmp_path / "none")
    # above every range of both files (dave's ends at 469999)
    assert e.value.field == "subuid"
    assert "usermod --add-subuids 470000-535535 --add-subgids 470000-535535 frank" in str(e.value)
    assert userns.free_range([""]) == Range(userns.FIRST_SUBID, userns.SIZE)


def test_root_writes_the_maps_itself_uid_map_last(tmp_path):
    (tmp_path / "42").mkdir()
    written = []
    ids = userns.LabIds(owner="root", uid=0, uids=IdMap((Extent(0, 300000, 65536),)),
                        gids=IdMap((Extent(0, 310000, 65536),)))
    userns.write_map(42, ids, proc=tmp_path, run=lambda *a, **k: written.append(a))
    assert (tmp_path / "42/uid_map").read_text() == "0 300000 65536\n"
    assert (tmp_path / "42/gid_map").read_text() == "0 310000 65536\n"
    assert written == []


def test_a_user_asks_newgidmap_then_newuidmap_and_a_refusal_is_an_error(monkeypatch):
    calls = []
    monkeypatch.setattr(userns.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    ids = userns.LabIds(owner="alice", uid=1001, uids=userns.user_map(1001, [Range(100000, 65536)]),
                        gids=userns.user_map(1001, [Range(100000, 65536)], what="gid"))

    def run(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")
    userns.write_map(42, ids, run=run)
    assert calls == [["newgidmap", "42", "0", "1001", "1", "1", "100000", "65535"],
                     ["newuidmap", "42", "0", "1001", "1", "1", "100000", "65535"]]

    def refuse(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, "", "newgidmap: gid range [1-65536) -> [100000-165535) not allowed\n")
    with pytest.raises(ClusterkitError) as e:
        userns.write_map(42, ids, run=refuse)
    assert e.value.field == "userns" and "not allowed" in str(e.value)
    monkeypatch.setattr(userns.shutil, "which", lambda tool: None)
    with pytest.raises(ClusterkitError) as e:
        userns.write_map(42, ids, run=run)
    assert "uidmap" in str(e.value)


def test_entering_the_namespace_always_becomes_its_root():
    holder = userns.Holder(userns.procs.Proc(4242, 1))
    assert userns.enter(holder) == ["nsenter", "-t", "4242", "--user", "--net", "--"]
    assert userns.enter(holder, net=False) == ["nsenter", "-t", "4242", "--user", "--"]
    assert not any("preserve" in word for word in userns.enter(holder))
