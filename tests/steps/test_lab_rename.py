"""The rename of notebook 01 against what a workshop really does: other logins of ``pi``, an earlier
cluster in the same kernel, a half-done apply. Real sshd and real usermod on a lab of two nodes."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from clusterkit import steps
from clusterkit.steps.actions import Command
from clusterkit.steps.detached import DetachedScript
from labnames import LAB_MARKS, lab_name, running_lab

pytestmark = LAB_MARKS
NAME = lab_name("trename")


@pytest.fixture
def lab(tmp_path):
    with running_lab(NAME, 2, tmp_path / "state") as running:
        yield running


def users(cluster, cls=steps.Users):
    return cls(cluster, name="alice", uid=1000, root_key=steps.rescue_key(cluster))


def logins(lab) -> dict[str, str]:
    """Who exists on each node, read from inside the node (not through the code under test)."""
    return {n: ("alice" if lab.exec(n, "id alice").returncode == 0 else "") +
               ("pi" if lab.exec(n, "id pi").returncode == 0 else "") for n in lab.boards}


def hold_pi(lab, env=None) -> subprocess.Popen:
    """Another program logged in as pi on every node, until its stdin closes."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, clusterkit.lab
        c = clusterkit.lab.find({lab.name!r}).connect()
        assert c.run("true").ok
        print("in", flush=True)
        sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline() == "in\n"
    return holder


def release(holder: subprocess.Popen) -> None:
    holder.stdin.close()
    holder.wait(timeout=20)


@pytest.fixture
def other_program(lab):
    """Another program logged in as pi on every node (a clusterkit script that is still running)."""
    holder = hold_pi(lab)
    yield holder
    release(holder)


def test_another_login_of_pi_is_refused_in_one_line_before_anything_changes(lab, other_program):
    with lab.connect() as cluster:
        before = {n: lab.exec(n, "cat /etc/passwd /etc/shadow /root/.ssh/authorized_keys 2>&1").stdout
                  for n in lab.boards}
        with pytest.raises(steps.StepError) as caught:
            users(cluster).apply(progress=False)
        error = caught.value
        assert error.field == "rename" and error.node == f"{NAME}[0-1]"
        assert f"by program python (process {other_program.pid})" in error.message and "\n" not in str(error)
        assert error.message.endswith(f"end program python (process {other_program.pid}), then run this cell again")
        assert after_equals(lab, before)
        assert logins(lab) == {n: "pi" for n in lab.boards}
        assert cluster.run("id -un").ok           # the workbook still reaches every node as pi


def sshd_sessions_of_pi(lab) -> dict[str, int]:
    """How many SSH connections log in as pi on each node, read from inside the node."""
    return {n: len(lab.exec(n, "pgrep -u pi -f 'sshd.*pi@' || true").stdout.split()) for n in lab.boards}


def test_another_notebook_is_named_and_a_rerun_closes_its_own_earlier_connections(lab):
    """Notebook 08 was run first and never reached its clean-up cell; 01 then failed, in this kernel; 08 is shut
    down and 01 is run again from the top, in the same kernel."""
    notebook_08 = hold_pi(lab, dict(os.environ, JPY_SESSION_NAME="/home/learner/notebooks/08_mpi.ipynb"))
    try:
        earlier = lab.connect()
        with pytest.raises(steps.StepError) as caught:
            users(earlier).apply(progress=False)
        error = caught.value
        assert error.field == "rename" and error.node == f"{NAME}[0-1]" and "\n" not in str(error)
        assert error.message == ("'pi' is also logged in there by notebook 08_mpi, and usermod cannot rename a user "
                                 "who is logged in: close notebook 08_mpi (Kernel > Shut Down Kernel), then run "
                                 "this cell again")
        assert logins(lab) == {n: "pi" for n in lab.boards}
    finally:
        release(notebook_08)
    # The cell that made the earlier cluster runs again: that object is gone, its connections are not.
    del earlier, caught, error
    gc.collect()
    assert all(count >= 1 for count in sshd_sessions_of_pi(lab).values())
    with lab.connect() as cluster:
        result = users(cluster).apply(progress=False)
        assert result.ok, result.text()
    assert logins(lab) == {n: "alice" for n in lab.boards}


def after_equals(lab, before) -> bool:
    return before == {n: lab.exec(n, "cat /etc/passwd /etc/shadow /root/.ssh/authorized_keys 2>&1").stdout
                      for n in lab.boards}


def test_a_login_made_after_the_plan_stops_that_node_before_the_rename(lab):
    first, second = lab.boards
    with lab.connect() as cluster:
        step = users(cluster)
        plan = step.plan()
        holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
            import sys, clusterkit.lab
            c = clusterkit.lab.find({lab.name!r}).connect()
            assert c.run("true", nodes={first!r}).ok
            print("in", flush=True)
            sys.stdin.read()
            """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline() == "in\n"
            result = step.apply(plan, progress=False)
        finally:
            holder.stdin.close()
            holder.wait(timeout=20)
        assert not result[first].ok and "logged in here by program python (process" in result[first].error
        assert result[second].ok, result.text()
        assert logins(lab) == {first: "pi", second: "alice"}
        assert {s.name: s.user for s in cluster.inventory} == {first: "pi", second: "alice"}
        who = cluster.run("id -un")
        assert who.ok and {n: r.stdout.strip() for n, r in who.items()} == {first: "pi", second: "alice"}


def test_an_earlier_cluster_in_the_same_kernel_does_not_block_the_rename(lab, capsys):
    before = {s.name: (s.login, s.uid) for s in lab.status()}
    assert {login for login, _ in before.values()} == {"pi"} and None not in {u for _, u in before.values()}
    earlier = lab.connect()                       # the learner ran the connect cell twice
    assert earlier.run("true").ok
    with lab.connect() as cluster:
        result = users(cluster).apply(progress=True)
        assert result.ok, result.text()
        last = {}                                 # the progress bar reaches every node's total
        for line in capsys.readouterr().err.splitlines():
            m = re.match(r"users: (\S+) (\d+)/(\d+) ", line)
            if m:
                last[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        assert set(last) == set(lab.boards) and all(done == total for done, total in last.values()), last
        assert users(cluster).plan().empty
        assert logins(lab) == {n: "alice" for n in lab.boards}
        result.save_inventory()
    earlier.close()
    # `lab status` shows the login the inventory uses now and its UID on each node, not the image's pi.
    assert {s.name: (s.login, s.uid) for s in lab.status()} == {n: ("alice", 1000) for n in lab.boards}


class FailsAfterRename(steps.Users):
    """The rename goes through, then a later command of the second phase fails."""

    def node_plan(self, node, s, states):
        plan = super().node_plan(node, s, states)
        script = plan.actions[-1]                 # phase two: the commands the detached root script runs
        assert isinstance(script, DetachedScript)
        plan.actions[-1] = replace(script, commands=script.commands
                                   + (Command("false", "a command that fails after the rename", phase=1),))
        return plan


def test_a_half_done_apply_follows_the_rename_that_happened(lab):
    with lab.connect() as cluster:
        result = users(cluster, FailsAfterRename).apply(progress=False)
        assert not result.ok
        for n in lab.boards:
            assert "'false' failed" in result[n].error, result.text()
        assert logins(lab) == {n: "alice" for n in lab.boards}
        assert all(s.user == "alice" for s in cluster.inventory)
        who = cluster.run("id -un")
        assert who.ok and {r.stdout.strip() for r in who.values()} == {"alice"}
