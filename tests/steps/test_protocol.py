"""The step protocol on the local backend: plan changes nothing, apply is exactly the plan, killed applies."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from clusterkit.steps import FileChange, Network, StepError, Users
from clusterkit.steps.base import BACKUP_SUFFIX

PASSWORD = "not-printed-9"


def users(cluster):
    return Users(cluster, name="alice", uid=1000, root_password=PASSWORD)


def test_plan_changes_nothing(fresh, snapshot):
    before = snapshot(fresh)
    plan = users(fresh).plan()
    assert not plan.empty
    assert snapshot(fresh) == before


def test_plan_renders_as_text_and_html(fresh):
    plan = Network(fresh).plan()
    html = plan._repr_html_()
    assert "<details>" in html and "/etc/hosts" in html and "pc2" in html
    assert "--- a/etc/hostname" in plan.text()
    assert "local backend" in plan.text()
    Network(fresh).apply(progress=False)
    again = Network(fresh).plan()
    assert again.empty
    assert "nothing to change" in again.text() and "nothing to change" in again._repr_html_()
    assert "nothing to change" in repr(again)


def test_diff_is_unified_and_secrets_are_hidden():
    change = FileChange("/etc/x", b"a\nb\n", b"a\nc\n")
    assert change.diff().splitlines()[:2] == ["--- a/etc/x", "+++ b/etc/x"]
    assert "-b" in change.diff() and "+c" in change.diff()
    secret = FileChange("/k", None, b"PRIVATE", secret=True)
    assert "PRIVATE" not in secret.diff()


def test_password_is_never_shown(fresh):
    step = users(fresh)
    plan = step.plan()
    result = step.apply(plan, progress=False)
    for text in (plan.text(), plan._repr_html_(), repr(plan), result.text(), result._repr_html_(), repr(step)):
        assert PASSWORD not in text
        assert "$6$" not in text  # nor its hash


def test_local_backend_lists_commands_as_would_run_never_as_run(fresh):
    result = users(fresh).apply(progress=False)
    assert result.ok
    for node, r in result.items():
        outcome = result.outcome(node)
        assert outcome.ran == []
        assert any(c.startswith("usermod -l alice") for c in outcome.would_run)
        assert "would run (not run: this backend has no root): usermod -l alice" in r.stdout
    assert "were <b>not</b> run" in result._repr_html_()


def test_apply_refuses_a_plan_made_before_the_nodes_changed(fresh, snapshot):
    step = Network(fresh)
    plan = step.plan()
    fresh["pc1"].write_file("/etc/hosts", b"127.0.0.1 localhost\n")
    before = snapshot(fresh)
    with pytest.raises(StepError) as err:
        step.apply(plan, progress=False)
    assert err.value.node == "pc1" and err.value.field == "plan"
    assert snapshot(fresh) == before


def _is_old_or_new(cluster, plan, before):
    for n, nplan in plan.nodes.items():
        for change in nplan.files:
            now = cluster[n].read_file(change.path)
            assert now in (change.old, change.new), f"{n}:{change.path} is partial"
            if now == change.new and change.old is not None:
                rel = change.path.lstrip("/") + BACKUP_SUFFIX
                assert before[n][change.path.lstrip("/")] == cluster[n].path(change.path + BACKUP_SUFFIX).read_bytes(), rel


def test_apply_stopped_half_way_leaves_old_or_new_files_with_backups(fresh, snapshot):
    step = Network(fresh)
    plan = step.plan()
    before = snapshot(fresh)
    # pc1 stops after its first file. Not "the 5th write of all": the nodes write at once, and
    # when that one was a node's last file the node was whole, its re-plan rightly empty.
    assert len(plan["pc1"].files) >= 2, plan["pc1"].files
    writes = []

    def stop_pc1_after_one(node, path):
        if node == "pc1":
            writes.append(path)
            if len(writes) == 1:
                raise RuntimeError("stopped half-way")

    step.on_write = stop_pc1_after_one
    result = step.apply(plan, progress=False)
    assert set(result.failed) == {"pc1"}  # the interrupted node is reported, the others finished
    _is_old_or_new(fresh, plan, before)
    # A new plan picks up from there: only the interrupted node still has changes, and
    # they are the planned files it had not written yet.
    stopped = set(result.failed)
    again = step.plan()
    assert stopped and {n for n, p in again.nodes.items() if not p.empty} == stopped
    for n in stopped:
        done = set(result.outcome(n).written)
        left = {f.path for f in again[n].files}
        assert done and left and left.isdisjoint(done), (done, left)
        assert left <= {f.path for f in plan[n].files}
    Network(fresh).apply(progress=False)
    assert Network(fresh).plan().empty


def test_apply_killed_in_a_subprocess_leaves_old_or_new_files(fresh, tmp_path, snapshot):
    sandbox = fresh["pc0"].root.parent.parent
    before = snapshot(fresh)
    plan = Network(fresh).plan()
    script = textwrap.dedent(f"""
        import os, signal, clusterkit
        from clusterkit.steps import Network
        cluster = clusterkit.connect(backend="local", sandbox={str(sandbox)!r})
        step = Network(cluster)
        count = []
        def kill(node, path):
            count.append(path)
            if len(count) == 6:
                os.kill(os.getpid(), signal.SIGKILL)
        step.on_write = kill
        step.apply(progress=False)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ), cwd=str(tmp_path))
    assert proc.returncode == -9, proc.stderr
    after = snapshot(fresh)
    assert after != before
    _is_old_or_new(fresh, plan, before)
    # A kill mid-write may leave a hidden temporary file beside its target; the target is never partial.
    leftovers = [p for n in after for p in after[n] if p.endswith(".tmp")]
    assert all(p.rsplit("/", 1)[-1].startswith(".") and ".clusterkit-" in p for p in leftovers)
    Network(fresh).apply(progress=False)
    assert Network(fresh).plan().empty


def test_restore_puts_old_files_back(fresh):
    step = Network(fresh)
    plan = step.plan()
    before = {n: {f.path: fresh[n].read_file(f.path) for f in plan[n].files} for n in plan.nodes}
    step.apply(plan, progress=False)
    step.restore(fresh["pc3"], plan["pc3"])
    for path, data in before["pc3"].items():
        assert fresh["pc3"].read_file(path) == data
