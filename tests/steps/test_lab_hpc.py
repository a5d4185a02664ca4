"""HPC Carpentry's lesson on the lab, as the learner types it on the login node (the primary), from the home folder.

The lab is brought to where notebooks 01-04 and 10 leave it (one user, names, the shared folder and the
shared homes, Slurm), then accounting and the modules are added as notebook 11 does. The tests then run the
commands of hpc-intro's episodes 13, 14, 15, 17 and 18 as the lesson writes them for Slurm, in a login shell
in ``~`` on the primary, and read every output file there.
"""

from __future__ import annotations

import re
import time

import pytest

from clusterkit import workbook
from clusterkit.compute import lesson
from clusterkit.steps import Modules, Nfs, SharedHomes, Slurm
from clusterkit.steps.slurmconf import DBD_CONF, dbd_password
from labnames import LAB_MARKS, lab_name, running_lab

pytestmark = LAB_MARKS
NAME = lab_name("thp")
N = 3
NODES = [f"{NAME}{i}" for i in range(N)]
PRIMARY, WORKER = NODES[0], NODES[2]
ME = "alice"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(NAME, N, tmp_path_factory.mktemp("state")) as running:
        with running.connect() as c:   # notebooks 01-02
            workbook.reapply(c, "01_users", "02_network").save_inventory()
        with running.connect() as c:
            assert Nfs(c, owner=ME).apply(progress=False).ok     # notebook 04
            # A file only one worker's home has: the shared homes move it to the primary before they cover it.
            assert c[WORKER].run("echo kept > ~/only-here.txt").ok
            homes = SharedHomes(c).apply(progress=False)
            assert homes.ok, homes.text()
            t0 = time.monotonic()
            assert Slurm(c).apply(progress=False).ok     # notebook 10
            running.slurm_seconds = time.monotonic() - t0
            t0 = time.monotonic()
            acct_plan = Slurm(c, accounting=True).plan()
            acct = Slurm(c, accounting=True).apply(acct_plan, progress=False)
            assert acct.ok, acct.text()
            running.accounting_seconds = time.monotonic() - t0
            running.acct_plan = acct_plan
            t0 = time.monotonic()
            mods = Modules(c).apply(progress=False)
            assert mods.ok, mods.text()
            running.modules_seconds = time.monotonic() - t0
        yield running


@pytest.fixture(scope="module")
def typed(lab):
    """A function: the learner's commands, typed on the primary in a login shell in ``~``; returns stdout."""
    with lab.connect() as c:
        def run(script: str, *, ok: bool = True) -> str:
            r = c[PRIMARY].run(f"cd ~ && bash -l -c {_q(script)}", timeout=180)
            if ok:
                assert r.ok, f"{script}: {r.summary()}\n{r.stderr}"
            return r.stdout
        yield run


def _q(text: str) -> str:
    import shlex
    return shlex.quote(text)


def _write(typed, name: str, text: str) -> None:
    typed(f"cat > {name} <<'EOF'\n{text}EOF")


def _submit(typed, name: str, text: str, options: str = "") -> str:
    _write(typed, name, text)
    out = typed(f"sbatch {options} {name}".replace("  ", " "))
    assert out.startswith("Submitted batch job "), out
    return out.split()[-1]


def _state(typed, job: str, timeout: float = 150) -> str:
    end = time.monotonic() + timeout
    while True:
        state = typed(f"sacct -n -X -P -j {job} -o State").strip().split(" ")[0].rstrip("+")
        if state and state not in ("PENDING", "RUNNING", "REQUEUED", "COMPLETING"):
            return state
        assert time.monotonic() < end, f"job {job} still {state or 'unknown'}"
        time.sleep(1)


def test_homes_are_shared_and_the_workers_file_was_moved(lab, typed):
    assert typed("cat ~/only-here.txt").strip() == "kept"
    for n in NODES[1:]:
        assert lab.exec(n, "cat /home/.clusterkit-homes").stdout == lab.exec(PRIMARY, "cat /home/.clusterkit-homes").stdout
    print(f"\nseconds: slurm step {lab.slurm_seconds:.1f}, accounting added {lab.accounting_seconds:.1f}, "
          f"modules {lab.modules_seconds:.1f}")


def test_the_database_password_is_never_shown_and_its_file_is_600(lab):
    text = lab.exec(PRIMARY, f"stat -c '%U %a' {DBD_CONF}; cat {DBD_CONF}").stdout
    assert text.splitlines()[0] == "slurm 600"
    password = dbd_password(text)
    assert password and password not in lab.acct_plan.text() and password not in lab.acct_plan._repr_html_()
    assert password not in lab.exec(PRIMARY, "ps -eo args").stdout


def test_episodes_13_14_15_17_18_as_the_lesson_writes_them(lab, typed):
    # Episode 13: a job past its walltime, submitted first (Slurm ends it about a minute later).
    overtime = _submit(typed, "long_job.sh", lesson.OVERTIME)
    # Episode 13: #SBATCH lines, squeue -u, the output file read on the primary (the job ran on a worker).
    hello = _submit(typed, "example-job.sh", lesson.HELLO, options=f"-w {WORKER}")
    queue = typed(f"squeue -u {ME}")
    assert "JOBID" in queue and overtime in queue
    assert _state(typed, hello) == "COMPLETED"
    assert typed(f"cat slurm-{hello}.out").strip() == f"This script is running on {WORKER}"
    # Episode 13: scancel.
    cancel = _submit(typed, "cancel-me.sh", lesson.CANCEL_ME)
    assert cancel in typed(f"squeue -u {ME}")
    typed(f"scancel {cancel}")
    assert _state(typed, cancel) == "CANCELLED"
    # Episode 14: the job's own environment.
    env = _submit(typed, "env-job.sh", lesson.ENVIRONMENT)
    assert _state(typed, env) == "COMPLETED"
    out = typed(f"cat slurm-{env}.out")
    assert "/home/alice" in out and f"Its job id is {env}," in out
    # Episode 15: module avail, module load changes which python3.
    avail = typed("module -t avail 2>&1")
    assert {"Python/", "MPICH/", "amdahl/"} <= {w.split("/")[0] + "/" for w in avail.split() if "/" in w}
    before, after = typed("which python3; module load Python; which python3; module list 2>&1").split()[:2]
    assert before == "/usr/bin/python3" and after != before and after.endswith("/bin/python3")
    # Episode 17: amdahl through srun on 1 task, and through sbatch (mpiexec) on 4 tasks across the nodes.
    one = typed("module load amdahl && srun -n 1 amdahl -w 2 -e")
    assert "on 1 processor" in one and "Total execution time" in one
    # (without -t, each rank says where it runs, as in the lesson's output)
    four = _submit(typed, "parallel-job.sh", lesson.AMDAHL.format(tasks=4, work=2).replace(" -t\n", "\n"))
    assert _state(typed, four) == "COMPLETED"
    out = typed(f"cat slurm-{four}.out")
    ranks = re.findall(r"I am process (\d) of 4 on (\S+?)\.", out)
    placed = typed(f"sacct -n -X -P -j {four} -o NNodes,NCPUS,NodeList").strip()
    assert {r for r, _ in ranks} == {"0", "1", "2", "3"}, out
    assert len({host for _, host in ranks}) >= 2, f"4 tasks on one node only: {ranks}; sacct: {placed}"
    # A script that fails.
    typo = _submit(typed, "typo.sh", lesson.FAILS)
    assert _state(typed, typo) == "FAILED"
    # Episode 13's job past its walltime ended by the scheduler.
    assert _state(typed, overtime, timeout=180) == "TIMEOUT"
    # Episode 18: sacct -u lists them all, with their states, elapsed time and max RSS.
    history = typed(f"sacct -u {ME} -P --format=JobID,JobName,State,Elapsed,MaxRSS")
    rows = [line.split("|") for line in history.splitlines()[1:]]
    states = {r[0]: r[2] for r in rows}
    for job, state in ((hello, "COMPLETED"), (cancel, "CANCELLED"), (env, "COMPLETED"), (four, "COMPLETED"),
                       (typo, "FAILED"), (overtime, "TIMEOUT")):
        assert states.get(job, "").startswith(state), (job, state, history)
    assert all(r[3].count(":") == 2 for r in rows)
    # Max RSS: Slurm samples a step's memory every 2 s (JobAcctGatherFrequency=task=2), so a step of about that
    # length may show none (seen: the 4-task job's batch step, 2 s); the walltime job's batch step ran 90 s.
    assert any(r[0] == f"{overtime}.batch" and r[4].endswith("K") for r in rows), history
    detail = typed(f"sacct -l -j {hello} -P")
    assert "MaxRSS" in detail.splitlines()[0]


def test_every_step_applies_again_without_changes(lab):
    with lab.connect() as c:
        for step in (SharedHomes(c), Slurm(c, accounting=True), Modules(c), Nfs(c, owner=ME)):
            assert step.plan().empty, step.plan().text()
