"""The one atomic write of a file of this machine: the new content whole, its mode, nothing left beside it."""

import os

import pytest

from clusterkit.atomicfile import temp_path, write_atomic


def test_a_write_replaces_the_file_whole_with_its_mode_whatever_the_umask(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("old\n")
    old = os.umask(0o077)
    try:
        write_atomic(path, "new\n", mode=0o644)
        write_atomic(tmp_path / "key", b"\x00secret", mode=0o600)
    finally:
        os.umask(old)
    assert path.read_text() == "new\n" and path.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "key").read_bytes() == b"\x00secret" and (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts", "key"]


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text("name: pc\n")
    with pytest.raises(TypeError):
        write_atomic(path, 42, mode=0o644)       # not bytes: the write fails after the temporary file is made
    assert path.read_text() == "name: pc\n" and [p.name for p in tmp_path.iterdir()] == ["inventory.yaml"]


def test_the_temporary_file_is_hidden_beside_the_file():
    assert temp_path("/etc/hosts", "ab12") == "/etc/.hosts.clusterkit-ab12.tmp"
