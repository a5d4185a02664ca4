"""Engines and MPI on lab nodes over SSH, on a lab set up as notebooks 01-04 leave it (keys, the shared folder)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from clusterkit import steps, workbook
from clusterkit.compute import ComputeError, mpi
from labnames import LAB_MARKS, lab_name, running_lab
from waiting import returns, wait_for

pytestmark = LAB_MARKS
NAME = lab_name("teng")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(NAME, 3, tmp_path_factory.mktemp("state")) as running:
        with running.connect() as c:   # notebooks 01-03
            workbook.reapply(c, "01_users", "02_network", "03_keys").save_inventory()
        with running.connect() as c:    # notebook 04
            assert steps.Nfs(c, owner="alice").apply(progress=False).ok
        yield running


#: What is left of engines on a node: engines, their nannies, leashes, MPI proxies.
LEFT = "pgrep -af '[i]pyparallel|[h]ydra_pmi_proxy|[l]eash' || true"


def wait_until_none_left(cluster, bound: float = 20.0, *, exclude=None) -> None:
    """Wait until no node (but ``exclude``) has engine processes left; fail after ``bound`` seconds, naming
    them (a bound, not a speed check: ``benchmarks/bench_engines_lab.py`` measures how fast)."""
    def leftovers() -> dict[str, str]:
        left = cluster.run(LEFT, timeout=30, exclude=exclude)
        assert left.ok, left.text()
        return {n: r.stdout.strip() for n, r in left.items() if r.stdout.strip()}
    wait_for(lambda: not leftovers(), bound, lambda: f"no engine process left on any node: {leftovers()}",
             interval=0.5)


def test_each_engines_hostname_is_its_node_and_none_is_left(lab):
    with lab.connect() as cluster:
        with cluster.engines() as e:
            view = e.view()
            names = view.apply_sync(socket.gethostname)
            assert sorted(names) == sorted(cluster.nodes)
            assert all(e.map.node(i) == h for i, h in zip(view.targets, names))
        # Stopped engines end within a few seconds (a bound, not a speed check); none is left on any node.
        def engines_left() -> list[str]:
            left = cluster.run("pgrep -af '[i]pyparallel.engine' || true", timeout=30)
            assert left.ok, left.text()
            return [r.stdout.strip() for r in left.values() if r.stdout.strip()]
        wait_for(lambda: not engines_left(), 20, lambda: f"the stopped engines to end: {engines_left()}",
                 interval=0.5)


STARTER = """
import json, sys, time
import clusterkit.lab
from clusterkit.compute import Engines
engines = Engines(clusterkit.lab.find(sys.argv[1]).connect(), **json.loads(sys.argv[2])).start()
print(len(engines), flush=True)
time.sleep(600)   # the workbook stays up, as a kernel does, until the test kills it
"""


@pytest.mark.parametrize("kind", [{}, {"mpi": True}], ids=["engines", "mpi-engines"])
def test_engines_end_on_every_node_when_the_workbook_is_killed(lab, kind):
    # As nbval kills a kernel: SIGKILL, so nothing in the workbook gets to stop them.
    starter = subprocess.Popen([sys.executable, "-c", STARTER, NAME, json.dumps(kind)], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert starter.stdout.readline().strip() == "3"
    finally:
        starter.kill()
        starter.wait(10)
    with lab.connect() as cluster:
        wait_until_none_left(cluster)


def test_the_controllers_key_is_on_no_command_line(lab):
    with lab.connect() as cluster, cluster.engines(per_node=2) as e:
        key = e.client.session.key.decode()
        assert len(key) >= 16
        on_nodes = cluster.run("ps -eo args", timeout=30)
        assert on_nodes.ok and len(e.map.engines) == 6
        assert all(key not in r.stdout for r in on_nodes.values())
        here = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        assert "ipyparallel.engine" in "".join(r.stdout for r in on_nodes.values())
        assert key not in here


def test_mpi_engines_one_rank_per_node_pass_a_ring_and_leave_nothing(lab):
    with lab.connect() as cluster:
        with cluster.engines(mpi=True) as e:
            assert sorted((x.rank, x.node, x.host) for x in e.map.engines) == \
                [(i, f"{NAME}{i}", f"{NAME}{i}") for i in range(3)]
            answers = e.view().apply_sync(mpi.ring, 300_000)
            assert answers[0]["ring"] == [0, 1, 2] and answers[0]["size"] == 3
            assert len({a["pi"] for a in answers}) == 1 and abs(answers[0]["pi"] - 3.1416) < 0.02
        wait_until_none_left(cluster)


def test_a_program_in_the_shared_folder_runs_on_every_node_under_mpiexec(lab):
    with lab.connect() as cluster:
        path = mpi.place_program(cluster, "pi_ring.py", mpi.PI_RING)
        assert path == "/srv/shared/pi_ring.py"
        seen = cluster.run(f"sha256sum {path}", timeout=30)   # one file, seen by every worker through the share
        assert seen.ok and len({r.stdout.split()[0] for r in seen.values()}) == 1
        command = mpi.command_for(cluster, [path, "300000"], per_node=2)
        assert "-genvnone" in command.argv and command.argv[command.argv.index("-wdir") + 1] == "/srv/shared"
        done = command.run(timeout=120)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].startswith("pi 3.1") and lines[0].endswith("on 6 ranks")
        assert lines[1] == "ring 0 -> 1 -> 2 -> 3 -> 4 -> 5 -> 0"
        assert lines[2] == f"ranks on {NAME}0,{NAME}0,{NAME}1,{NAME}1,{NAME}2,{NAME}2"


def test_a_node_whose_engines_die_mid_run_is_reported_and_its_tasks_finish_elsewhere(lab):
    from clusterkit import workloads
    ranges = workloads.prime_ranges(600_000, 18)
    with lab.connect() as cluster, cluster.engines() as e:
        job = e.submit(workloads.count_primes, ranges, balanced=True, retries=2)
        wait_for(lambda: any(t.ready() for t in job.tasks), 30, "a first task done", interval=0.02)
        killed = e.kill(f"{NAME}1")                    # SIGKILL on the node, over SSH
        report = job.report(timeout=120)
        assert killed == e.map.ids(f"{NAME}1")
        assert report.ok, report.text()
        assert sum(report.results) == sum(workloads.count_primes(*r) for r in ranges)
        assert report.lost == (f"{NAME}1",)
        assert len(e.view()) == 2                        # the notebook goes on with the rest


def test_a_node_that_is_off_fails_the_start_by_name_and_leaves_nothing_on_the_others(lab):
    # Last in this module: it switches a node off.
    off = f"{NAME}2"
    lab.stop_node(off)
    with lab.connect(connect_timeout=3) as cluster:
        # It fails on that node rather than wait out the 60 s it is given for engines (the 30 s is a bound, not a speed
        # check: benchmarks/bench_faults.py prints how long it takes).
        failed = returns(lambda: pytest.raises(ComputeError, cluster.engines, timeout=60), 30,
                         "a start of engines with a node that is off")
        assert failed.value.node == off and off in failed.value.message
        wait_until_none_left(cluster, exclude=off)
