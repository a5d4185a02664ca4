"""The kinds of lab and the lab's record, with no lab up: the registry, the choice on the command line, and
``lab.json``'s one locked writer."""

from __future__ import annotations

import argparse
import json
import threading

import pytest

import clusterkit.lab
from clusterkit.errors import ClusterkitError
from clusterkit.lab import kinds, ns, rootless, vm
from clusterkit.lab.procs import Proc
from clusterkit.lab.record import Board, Record, set_supervisor


def test_every_kind_is_registered_once_and_the_default_has_no_flag():
    assert kinds.every() == [ns.KIND, rootless.KIND, vm.KIND]
    assert kinds.default() is rootless.KIND and kinds.get(None) is rootless.KIND
    assert kinds.get(vm.KIND.name) is vm.KIND
    with pytest.raises(ClusterkitError) as e:
        kinds.get("toaster")
    assert e.value.field == "kind" and vm.KIND.name in str(e.value)
    with pytest.raises(ValueError):
        kinds.register(type("Second", (kinds.LabKind,), {"name": "second"})())   # a second default


def test_no_kind_is_another_kinds_lab_class():
    assert not issubclass(vm.VMLab, ns.NamespaceLab) and not issubclass(ns.NamespaceLab, vm.VMLab)
    assert ns.KIND.traits != vm.KIND.traits


def test_the_command_line_chooses_a_kind_through_the_registry():
    parser = argparse.ArgumentParser()
    parser.set_defaults(kind=None, release=None)
    for kind in kinds.every():
        kind.add_options(parser)
    assert kinds.get(parser.parse_args([]).kind) is rootless.KIND
    chosen = parser.parse_args(["--vm", "--release", "bookworm"])
    assert kinds.get(chosen.kind) is vm.KIND and chosen.release == "bookworm"
    assert "(--vm)" in vm.KIND.described() and "(no --host-root, --vm)" in rootless.KIND.described()
    assert kinds.get(parser.parse_args(["--host-root"]).kind) is ns.KIND


def _record(tmp_path, count: int, kind: str | None) -> Record:
    boards = {f"t{i}": Board(name=f"t{i}", index=i, uid=1000, host=f"172.30.0.{10 + i}", address=f"10.0.0.{1 + i}")
              for i in range(count)}
    record = Record("t", 0, "10.0.0.0/24", "172.30.0.0/24", None, boards, kind=kind)
    record.save(tmp_path)
    return record


def test_a_lab_json_is_opened_as_its_kind(tmp_path):
    _record(tmp_path, 1, vm.KIND.name)
    assert kinds.of(tmp_path) is vm.KIND
    data = json.loads((tmp_path / "lab.json").read_text())
    del data["kind"]                       # a lab.json written before kinds were recorded
    (tmp_path / "lab.json").write_text(json.dumps(data))
    assert kinds.of(tmp_path) is rootless.KIND and kinds.of(tmp_path / "none") is rootless.KIND


def test_boards_started_at_once_all_keep_their_supervisor(tmp_path):
    count = 16
    _record(tmp_path, count, None)
    start = threading.Barrier(count)

    def power(i: int) -> None:
        start.wait()
        set_supervisor(tmp_path, f"t{i}", Proc(100 + i, 7))

    threads = [threading.Thread(target=power, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    record = Record.load(tmp_path)
    assert {b.name: b.supervisor for b in record.boards.values()} == {f"t{i}": Proc(100 + i, 7) for i in range(count)}
    assert record.network == "10.0.0.0/24" and record.kind is None


def test_up_refuses_what_its_kind_cannot_take():
    with pytest.raises(ClusterkitError) as e:
        clusterkit.lab.up(name="tnever", kind="toaster")
    assert e.value.field == "kind"
