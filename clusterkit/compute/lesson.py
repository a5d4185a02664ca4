"""HPC Carpentry's lesson on this cluster (notebook 11): its commands typed as the learner types them.

Every command runs where the lesson runs it: on the login node (the primary), as
the cluster's user, in a **login shell** (so Lmod's ``module`` is there, as in a
terminal) started in the home folder, which notebook 04 shares with every node.
On the local backend no Slurm runs: the rows say so (status ``refused``), and
:func:`amdahl_table` runs amdahl with ``mpiexec`` on this machine instead, and says so.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import posixpath
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ClusterkitError
from ..results import ClusterResult, NodeResult
from .slurm import FINISHED, _refused, login, runs_slurm

if TYPE_CHECKING:
    from ..cluster import Cluster

#: Episode 13's first job script, as the lesson writes it (with a name and a walltime).
HELLO = """\
#!/bin/bash
#SBATCH -J hello-world
#SBATCH -t 00:01:00

echo -n "This script is running on "
hostname
"""
#: Episode 13's job that runs past its walltime: Slurm ends it (state TIMEOUT) after about a minute.
OVERTIME = """\
#!/bin/bash
#SBATCH -J long_job
#SBATCH -t 00:01:00

echo "This script is running on ... "
sleep 240 # time in seconds
hostname
"""
#: Episode 13's job to cancel.
CANCEL_ME = """\
#!/bin/bash
#SBATCH -J cancel-me
#SBATCH -t 00:05:00

sleep 240
"""
#: Episode 14: the environment Slurm gives a job.
ENVIRONMENT = """\
#!/bin/bash
#SBATCH -t 00:00:30

echo -n "This script is running on "
hostname

echo "This job was launched in the following directory:"
echo ${SLURM_SUBMIT_DIR}
echo "Its job id is ${SLURM_JOB_ID}, and it runs on ${SLURM_JOB_NODELIST}"
"""
#: A job whose script fails (a folder that is not there): sacct says FAILED, with its exit code.
FAILS = """\
#!/bin/bash
#SBATCH -J typo
#SBATCH -t 00:00:30

ls /no/such/folder
"""
#: What :func:`submit` returns where nothing was submitted (the local backend): the word the lesson writes.
NOT_SUBMITTED = "JOBID"
#: Episode 17: amdahl on N tasks across the nodes ({tasks}, {work}: seconds of work; -e: no jitter).
AMDAHL = """\
#!/bin/bash
#SBATCH -J parallel-job
#SBATCH -n {tasks}
#SBATCH -t 00:05:00

# Load the computing environment we need
module load amdahl

# Execute the task
mpiexec amdahl -w {work} -e -t
"""


def shell(cluster: Cluster, script: str, *, timeout: float = 120.0) -> ClusterResult:
    """``script`` typed in a terminal on the login node: a login shell, in the home folder, as the cluster's user."""
    if not runs_slurm(cluster):
        return _refused(cluster, script)
    command = f"cd ~ && bash -l -c {shlex.quote(script)}"
    return cluster.each(lambda node: _as_typed(node.run(command, timeout=timeout), script),
                        nodes=[login(cluster).name], timeout=timeout, command=script)


def _as_typed(r: NodeResult, script: str) -> NodeResult:
    """The row with the command as the learner typed it (not the login-shell wrapper)."""
    return dataclasses.replace(r, command=script)


def write_home(cluster: Cluster, name: str, text: str) -> str:
    """Write ``text`` as ``~/NAME`` of the cluster's user on the login node (as typed in an editor); returns the path."""
    if "/" in name or name.startswith("."):
        raise ClusterkitError(f"{name!r} is not a plain file name", field="name")
    node = login(cluster)
    if not runs_slurm(cluster):
        return f"~/{name}"
    r = node.run(f"cat > ~/{shlex.quote(name)} && echo ~/{shlex.quote(name)}", stdin=text, timeout=30)
    if not r.ok:
        raise ClusterkitError(f"cannot write ~/{name}: {r.summary()}", node=node.name, field="home")
    return r.stdout.strip()


def submit(cluster: Cluster, name: str, script: str, *, options: str = "") -> str:
    """Write the job script in the home folder and ``sbatch`` it from there (``options``: sbatch's, on its command
    line, such as ``-w pc2``); its job id (:data:`NOT_SUBMITTED` where no Slurm runs)."""
    write_home(cluster, name, script)
    if not runs_slurm(cluster):
        return NOT_SUBMITTED
    command = f"sbatch {options} {shlex.quote(name)}" if options else f"sbatch {shlex.quote(name)}"
    r = next(iter(shell(cluster, command, timeout=60).values()))
    words = r.stdout.split()
    if not r.ok or not words or not words[-1].isdigit():
        raise ClusterkitError(f"sbatch refused {name}: {r.summary()}", node=r.node, field="sbatch")
    return words[-1]


#: What :func:`wait` answers for a job that was never submitted (the local backend).
NO_JOB = "no job: no Slurm runs here"


def wait(cluster: Cluster, job: str | None, *, timeout: float = 180.0) -> str:
    """Wait until ``job`` has left the queue and the accounting database has its end; its final state
    (:data:`NO_JOB` for one that was never submitted)."""
    if job is None or not job.isdigit():
        return NO_JOB
    end = time.monotonic() + timeout
    node = login(cluster)
    while True:
        r = node.run(f"sacct -n -X -P -j {job} -o State", timeout=30)
        state = r.stdout.strip().split()[0] if r.ok and r.stdout.strip() else ""
        state = state.rstrip("+")
        if state in FINISHED or state.startswith("CANCELLED"):
            return "CANCELLED" if state.startswith("CANCELLED") else state
        if time.monotonic() > end:
            raise ClusterkitError(f"job {job} has not finished after {timeout:g} s (state {state or 'unknown'})",
                                  node=node.name, field="timeout")
        time.sleep(0.5)


@dataclass
class AmdahlRun:
    """One run of amdahl: tasks, seconds it took, and the speedup Amdahl's law predicts."""

    tasks: int
    seconds: float
    predicted: float
    nodes: str = ""


@dataclass
class AmdahlTable:
    """Episode 17's table: amdahl on 1, 2, 4… tasks, measured speedup against Amdahl's law."""

    runs: list[AmdahlRun] = field(default_factory=list)
    where: str = ""
    proportion: float = 0.8

    def speedup(self, run: AmdahlRun) -> float:
        return self.runs[0].seconds / run.seconds if self.runs and run.seconds else 0.0

    def text(self) -> str:
        lines = [self.where, f"{'tasks':>5} {'seconds':>8} {'speedup':>8} {'Amdahl':>7}  nodes"]
        lines += [f"{r.tasks:>5} {r.seconds:>8.2f} {self.speedup(r):>8.2f} {r.predicted:>7.2f}  {r.nodes}"
                  for r in self.runs]
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return f"<AmdahlTable {[r.tasks for r in self.runs]} tasks>"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{r.tasks}</td><td>{r.seconds:.2f}</td><td>{self.speedup(r):.2f}</td>"
                       f"<td>{r.predicted:.2f}</td><td>{html.escape(r.nodes)}</td></tr>" for r in self.runs)
        return (f"<div><i>{html.escape(self.where)}</i><table><tr><th>tasks</th><th>seconds</th>"
                f"<th>speedup</th><th>Amdahl's law</th><th>nodes</th></tr>{rows}</table></div>")


#: amdahl's console script, as its wheel declares it (``amdahl = amdahl.amdahl:amdahl``), run from the wheel itself.
AMDAHL_MAIN = "from amdahl.amdahl import amdahl; amdahl()"


def predicted(tasks: int, proportion: float) -> float:
    """Amdahl's law: the speedup of ``tasks`` workers when ``proportion`` of the work is parallel."""
    return 1.0 / ((1 - proportion) + proportion / tasks)


def amdahl_table(cluster: Cluster, *, tasks: tuple[int, ...] = (1, 2, 4), work: int = 6,
                 wheel: str | None = None) -> AmdahlTable:
    """Run amdahl on each number of ``tasks`` (``work`` seconds of pretend work, 80 % parallel, no jitter).

    On the lab and on boards each run is an ``sbatch`` job from the home folder
    (episode 17's script), spread over the nodes by Slurm. On the local backend,
    with no scheduler, it runs with ``mpiexec`` on this machine, from the cached wheel.
    """
    if any(not isinstance(t, int) or isinstance(t, bool) or t < 1 for t in tasks) or not tasks:
        raise ClusterkitError(f"{tasks!r}: give whole numbers of tasks, at least 1", field="tasks")
    if not isinstance(work, int) or isinstance(work, bool) or not 1 <= work <= 600:
        raise ClusterkitError(f"{work!r} is not a number of seconds from 1 to 600", field="work")
    if runs_slurm(cluster):
        table = AmdahlTable(where=f"sbatch jobs from ~ on {login(cluster).name}, spread by Slurm over the nodes")
        jobs = []
        for n in tasks:
            name = f"parallel-job-{n}.sh"
            jobs.append((n, submit(cluster, name, AMDAHL.format(tasks=n, work=work))))
        for n, job in jobs:
            state = wait(cluster, job, timeout=120 + 2 * work)
            if state != "COMPLETED":
                raise ClusterkitError(f"the amdahl job on {n} tasks ended {state}", node=login(cluster).name,
                                      field="amdahl")
            out = next(iter(shell(cluster, f"cat slurm-{job}.out; sacct -n -X -P -j {job} -o NodeList").values()))
            table.runs.append(_parse(out.stdout, n, work))
        return table
    from ..steps.modules import cached_wheel
    wheel = wheel or cached_wheel()
    if wheel is None:
        raise ClusterkitError("no amdahl wheel cached on this machine: run scripts/setup.sh", field="wheel")
    mpiexec = posixpath.join(posixpath.dirname(sys.executable), "mpiexec")
    if not os.path.exists(mpiexec):
        return AmdahlTable(where="local backend: no scheduler and no MPI here (mpich and mpi4py are not installed), "
                                 "so amdahl cannot run; on the lab or on boards it runs through sbatch")
    table = AmdahlTable(where="local backend: no scheduler here, so mpiexec runs amdahl on this machine alone")
    for n in tasks:
        r = subprocess.run([mpiexec, "-n", str(n), sys.executable, "-c", AMDAHL_MAIN, "-w", str(work), "-e", "-t"],
                           capture_output=True, text=True, timeout=120 + 2 * work, check=False,
                           env={**os.environ, "PYTHONPATH": wheel})
        if r.returncode != 0:
            raise ClusterkitError(f"amdahl on {n} tasks failed: {r.stderr.strip()[-300:]}", field="amdahl")
        table.runs.append(_parse(r.stdout + "\nthis machine\n", n, work))
    return table


def _parse(text: str, tasks: int, work: int) -> AmdahlRun:
    """amdahl's terse JSON (and the node list after it) -> a run."""
    start, end = text.find("{"), text.rfind("}")
    try:
        summary = json.loads(text[start:end + 1])
        seconds = float(summary["execution_time"])
        proportion = float(summary.get("parallel_proportion", 0.8))
    except (ValueError, KeyError):
        raise ClusterkitError(f"amdahl printed no summary: {text.strip()[:200]!r}", field="amdahl") from None
    nodes = text[end + 1:].strip().splitlines()
    return AmdahlRun(tasks, seconds, predicted(tasks, proportion), nodes[-1].strip() if nodes else "")


def history(cluster: Cluster, user: str, *, jobs: list[str | None] | None = None) -> ClusterResult:
    """Episode 18: ``sacct -u USER`` (the learner's jobs of today: state, elapsed time, max RSS)."""
    fmt = "JobID,JobName%15,State,Elapsed,MaxRSS"
    wanted = [j for j in (jobs or []) if j and j.isdigit()]
    only = f" -j {','.join(wanted)}" if wanted else ""
    return shell(cluster, f"sacct -u {shlex.quote(user)}{only} --format={fmt}")


__all__ = ["HELLO", "OVERTIME", "CANCEL_ME", "ENVIRONMENT", "FAILS", "AMDAHL", "NOT_SUBMITTED", "NO_JOB", "shell", "write_home", "submit", "wait",
           "amdahl_table", "AmdahlTable", "AmdahlRun", "predicted", "history"]
