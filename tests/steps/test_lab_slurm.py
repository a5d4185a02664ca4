"""Slurm on the lab: real munged, slurmctld and slurmd inside the nodes, jobs from the shared folder.

The lab is brought to where notebooks 01-04 leave it (one user with one UID, names and
addresses, the shared folder), then the step runs with a short SlurmdTimeout so that a
pulled plug shows within the test's time.
"""

from __future__ import annotations

import os

import pytest

from clusterkit import workbook
from clusterkit.compute import mpi, slurm
from clusterkit.lab.wait import wait_for_sshd
from clusterkit.steps import Nfs, Slurm
from clusterkit.steps.slurmconf import KEY
from labnames import LAB_MARKS, lab_name, running_lab
from notebook_run import run_notebook
from waiting import wait_for

pytestmark = LAB_MARKS
NAME = lab_name("tsl")
N = 3
NODES = [f"{NAME}{i}" for i in range(N)]
TIMEOUT = 10   # SlurmdTimeout for this lab: a stopped node is DOWN within about half a minute


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(NAME, N, tmp_path_factory.mktemp("state")) as running:
        with running.connect() as c:   # notebooks 01-02
            workbook.reapply(c, "01_users", "02_network").save_inventory()
        with running.connect() as c:
            shared = Nfs(c, owner="alice").apply(progress=False)   # notebook 04
            assert shared.ok, shared.text()
            first = Slurm(c, slurmd_timeout=TIMEOUT).apply(progress=False)
            assert first.ok, first.text()
        running.first_apply = first
        yield running


def test_daemons_run_inside_the_nodes_and_a_second_apply_changes_nothing(lab, cluster):
    first = lab.first_apply
    for n in NODES:
        assert "slurmd registered" in first.outcome(n).verified
        ps = lab.exec(n, "ps -eo user=,comm=").stdout.split()
        assert "munged" in ps and "slurmd" in ps
        assert ("slurmctld" in ps) == (n == NODES[0])
        assert lab.exec(n, "systemctl is-enabled munge slurmd").stdout.split() == ["enabled", "enabled"]
    before = {n: lab.exec(n, "cat /etc/slurm/slurm.conf; pgrep -x slurmd; pgrep -x munged").stdout for n in NODES}
    again = Slurm(cluster, slurmd_timeout=TIMEOUT)
    assert again.plan().empty
    assert again.apply(progress=False).ok
    assert {n: lab.exec(n, "cat /etc/slurm/slurm.conf; pgrep -x slurmd; pgrep -x munged").stdout
            for n in NODES} == before


def test_no_munge_or_slurm_process_runs_on_the_host():
    host_ns = os.readlink("/proc/self/ns/pid")
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            comm = open(f"/proc/{pid}/comm").read().strip()
            ns = os.readlink(f"/proc/{pid}/ns/pid")
        except OSError:
            continue
        if comm in ("munged", "slurmctld", "slurmd", "slurmstepd") and ns == host_ns:
            found.append((pid, comm))
    assert found == []


def test_srun_on_every_node_gives_one_distinct_hostname_each(cluster):
    r = slurm.run(cluster, f"srun -N {N} hostname")[NODES[0]]
    assert r.ok, r.summary()
    names = r.stdout.split()
    assert sorted(names) == NODES


def test_a_job_arrays_outputs_all_land_in_the_shared_folder(cluster):
    job = slurm.sbatch(cluster, slurm.SQUARES, name="squares.sh")
    assert job.wait(until="running")
    assert any(r.job.startswith(job.id + "_") for r in slurm.queue(cluster))
    tasks = job.wait(timeout=60)
    assert {t["JobState"] for t in tasks.values()} == {"COMPLETED"}
    listing = cluster[NODES[-1]].run(f"cat /srv/shared/squares-{job.id}_*.out", timeout=30)   # read on a worker
    lines = sorted(listing.stdout.splitlines(), key=lambda ln: int(ln.split()[1]))
    assert [ln.split()[1] for ln in lines] == [str(i) for i in range(1, 9)]
    assert lines[6].endswith("7 x 7 = 49")
    assert len({ln.split()[3].rstrip(":") for ln in lines}) > 1     # the tasks ran on more than one node


def test_mpi_program_from_the_shared_folder_through_srun(cluster):
    path = mpi.place_program(cluster, "pi_ring.py", mpi.PI_RING)
    r = slurm.run(cluster, f"srun -N {N} {cluster.inventory.python} {path} 400000")[NODES[0]]
    assert r.ok, r.summary()
    assert f"on {N} ranks" in r.stdout and f"ranks on {','.join(NODES)}" in r.stdout
    assert "ring 0 -> 1 -> 2 -> 0" in r.stdout


def test_too_many_cpus_is_refused_and_a_drained_node_gets_no_work(cluster):
    big = slurm.run(cluster, f"srun -c {slurm.most_cpus(cluster) + 1} hostname")[NODES[0]]
    assert big.status == "failed" and "Requested node configuration is not available" in big.stderr
    worker = NODES[1]
    assert slurm.drain(cluster, worker, reason="new fan").ok
    try:
        states = {n.name: n for n in slurm.nodes(cluster)}
        assert states[worker].state.startswith("drain") and states[worker].reason == "new fan"
        r = slurm.run(cluster, f"srun -N {N - 1} hostname")[NODES[0]]
        assert r.ok and worker not in r.stdout.split()
    finally:
        assert slurm.resume(cluster, worker).ok
    assert {n.name: n.state for n in slurm.nodes(cluster)}[worker] == "idle"


def test_the_munge_key_is_made_once_shared_and_never_shown(lab, cluster):
    lab.exec(NODES[0], f"rm -f {KEY}")                                 # no key on the primary: a new one
    lab.exec(NODES[2], f"head -c 64 /dev/urandom > {KEY}")             # a worker with another key
    step = Slurm(cluster, slurmd_timeout=TIMEOUT)
    plan = step.plan()
    assert any(f"{NODES[0]} has no Munge key: a new random one" in note for note in plan.notes)
    assert plan[NODES[1]].file(KEY).secret and plan[NODES[2]].file(KEY).secret
    result = step.apply(plan, progress=False)
    assert result.ok, result.text()
    digests = {n: lab.exec(n, f"sha256sum < {KEY}; stat -c '%U %a %s' {KEY}").stdout for n in NODES}
    assert len(set(digests.values())) == 1 and "munge 400 128" in digests[NODES[0]]
    key = bytes.fromhex(lab.exec(NODES[0], f"od -An -tx1 -v {KEY} | tr -d ' \\n'").stdout)
    assert len(key) == 128
    logs = "".join(lab.exec(n, "cat /var/log/munge/*.log /var/log/slurm/*.log 2>/dev/null").stdout for n in NODES)
    logs += "".join((lab.node_dir(n) / "console.log").read_text(errors="replace") for n in NODES)
    shown = plan.text() + plan._repr_html_() + result.text() + result._repr_html_() + logs
    for form in (key.hex(), key.decode("latin-1"), key[:16].hex()):
        assert form not in shown
    assert slurm.run(cluster, f"srun -N {N} true")[NODES[0]].ok      # the new key works everywhere


def test_a_worker_stopped_during_a_job_is_reported_down_and_its_job_requeued(lab, cluster):
    worker = NODES[2]
    job = slurm.sbatch(cluster, "#!/bin/bash\n#SBATCH --output=long-%j.out\nsleep 300\n", name="long.sh",
                       options=f"-w {worker}")
    try:
        assert job.wait(until="running")[job.id]["NodeList"] == worker
        lab.stop_node(worker)
        def down() -> slurm.NodeRow | None:
            state = {n.name: n for n in slurm.nodes(cluster)}[worker]
            return state if state.state.startswith("down") else None
        state = wait_for(down, TIMEOUT + 60, f"Slurm to call {worker} down", interval=1)
        assert state.reason == "Not responding"
        after = job.tasks()[job.id]
        assert after["JobState"] in ("PENDING", "NODE_FAIL", "REQUEUED"), after   # requeued: it will start again
    finally:
        job.cancel()
        lab.start_node(worker)
        wait_for_sshd({worker: lab.boards[worker].host}, timeout=30)
    with lab.connect() as c:   # the node is back: its share and daemons again (a boot would start them)
        assert Nfs(c, owner="alice").apply(progress=False).ok
        back = Slurm(c, slurmd_timeout=TIMEOUT).apply(progress=False)
        assert back.ok, back.text()
        assert {n.name: n.state for n in slurm.nodes(c)}[worker] == "idle"


def test_notebook_10_runs_on_this_lab_and_shows_no_key(lab, tmp_path, monkeypatch):
    """Last in this module: the notebook applies the step with its own SlurmdTimeout (30 s)."""
    import json
    from pathlib import Path

    import nbformat
    
    nb = nbformat.read(Path(__file__).parents[2] / "notebooks" / "10_slurm.ipynb", as_version=4)
    monkeypatch.setenv("CLUSTERKIT_BACKEND", "lab")
    monkeypatch.setenv("CLUSTERKIT_INVENTORY", str(lab.inventory_path))
    run_notebook(nb, cwd=tmp_path, timeout=300)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "slurmd registered with" in outputs and "squares" in outputs
    key = bytes.fromhex(lab.exec(NODES[0], f"od -An -tx1 -v {KEY} | tr -d ' \\n'").stdout)
    assert len(key) == 128
    for form in (key.hex(), key[:16].hex(), json.dumps(key.decode("latin-1"))[1:-1]):
        assert form not in outputs
