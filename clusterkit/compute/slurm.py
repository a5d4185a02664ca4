"""Using Slurm once :class:`clusterkit.steps.Slurm` runs it (notebook 10): commands, jobs, the queue, draining.

Everything is typed where a cluster's user types it: on the login node (the
primary), as the cluster's user, with the output shown as it comes. Batch
scripts live in the shared folder of notebook 04 (every node sees the same
file, and the same results). On the local backend no Slurm daemon runs: the
rows say so (status ``refused``), and :func:`nodes` lists the nodes as the
rendered slurm.conf in the primary's sandbox has them.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ClusterShell.NodeSet import NodeSet

from ..errors import ClusterkitError
from ..results import ClusterResult, NodeResult
from .mpi import SHARED

if TYPE_CHECKING:
    from ..cluster import Cluster

#: A job array: eight tasks, each squares its number on whichever node Slurm gave it; results in the shared folder.
SQUARES = """\
#!/bin/bash
#SBATCH --job-name=squares
#SBATCH --array=1-8
#SBATCH --ntasks=1
#SBATCH --output=squares-%A_%a.out
# Each task of the array gets its own number; the output file names carry the job and task numbers.
n=$SLURM_ARRAY_TASK_ID
sleep 3
echo "task $n on $(hostname): $n x $n = $((n * n))"
"""
NO_SLURM = "the local backend runs no Slurm daemons (no root): on the lab or on boards this runs on {node}"
#: squeue's fields, in the order :class:`QueueRow` has them.
QUEUE_FORMAT = "%i|%j|%u|%T|%M|%N|%r"


@dataclass(frozen=True)
class QueueRow:
    """One line of ``squeue``: a job (or an array task, ``12_3``), who, its state, where it runs or why it waits."""

    job: str
    name: str
    user: str
    state: str
    time: str
    nodes: list[str]
    reason: str


@dataclass(frozen=True)
class NodeRow:
    """One node as Slurm sees it (``sinfo -N``): state (``idle``, ``alloc``, ``drain``, ``down*``…), CPUs, reason."""

    name: str
    state: str
    cpus: int
    memory: int
    reason: str = ""


def login(cluster: Cluster):
    """The node where users type Slurm commands: the primary (it runs slurmctld and is the login node)."""
    return cluster.primary


def runs_slurm(cluster: Cluster) -> bool:
    """Whether Slurm's daemons can run on this cluster's nodes: the login node's Platform says why not, where
    none can (the local backend: no root there)."""
    return login(cluster).platform.why_no_daemons() is None


def run(cluster: Cluster, command: str, *, timeout: float = 120.0) -> ClusterResult:
    """A plain Slurm command (``sinfo``, ``srun -N 4 hostname``) on the login node, as the cluster's user."""
    if not runs_slurm(cluster):
        return _refused(cluster, command)
    return cluster.run(command, nodes=[login(cluster).name], timeout=timeout)


def admin(cluster: Cluster, command: str, *, timeout: float = 60.0) -> ClusterResult:
    """A Slurm command that needs root (``scontrol update …``) on the login node."""
    if not runs_slurm(cluster):
        return _refused(cluster, f"sudo {command}")
    return cluster.sudo(command, nodes=[login(cluster).name], timeout=timeout)


def _refused(cluster: Cluster, command: str) -> ClusterResult:
    """The login node's row where no Slurm can run (the local backend): refused, saying why."""
    name = login(cluster).name
    return ClusterResult({name: NodeResult.failure(name, "refused", NO_SLURM.format(node=name), command=command)},
                         command=command)


def _one(result: ClusterResult) -> NodeResult:
    return next(iter(result.values()))


# ------------------------------------------------------------ batch jobs
@dataclass
class Job:
    """A batch job submitted with :func:`sbatch`. ``id`` is None when nothing was submitted (local backend)."""

    cluster: object = field(repr=False)
    id: str | None
    script: str
    submitted: NodeResult = field(repr=False)

    def tasks(self) -> dict[str, dict[str, str]]:
        """Each task (``12`` or ``12_3`` in an array) -> its JobState, NodeList and Reason, from ``scontrol``."""
        if self.id is None:
            return {}
        r = _one(run(self.cluster, f"scontrol -o show job {self.id}", timeout=30))
        out = {}
        for line in r.stdout.splitlines():
            fields = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if "JobId" not in fields:
                continue
            task = fields.get("ArrayTaskId")
            key = f"{fields.get('ArrayJobId', fields['JobId'])}_{task}" if task and "-" not in task else fields["JobId"]
            out[key] = {k: fields.get(k, "") for k in ("JobState", "NodeList", "Reason", "ExitCode")}
        return out

    def wait(self, *, until: str = "done", timeout: float = 120.0) -> dict[str, dict[str, str]]:
        """Wait until a task runs (``until="running"``) or every task has left the queue (``"done"``)."""
        if until not in ("running", "done"):
            raise ClusterkitError(f"must be 'running' or 'done', not {until!r}", field="until")
        if self.id is None:
            return {}
        end = time.monotonic() + timeout
        while True:
            tasks = self.tasks()
            states = {t["JobState"] for t in tasks.values()}
            if until == "running" and ("RUNNING" in states or tasks and states <= FINISHED):
                return tasks
            if until == "done" and tasks and states <= FINISHED:
                return tasks
            if time.monotonic() > end:
                raise ClusterkitError(f"job {self.id} is not {until} after {timeout:g} s: "
                                      f"{sorted(states) or 'unknown to Slurm'}", field="timeout")
            time.sleep(0.25)

    def cancel(self) -> ClusterResult:
        return run(self.cluster, f"scancel {self.id}") if self.id else run(self.cluster, "scancel")

    def __repr__(self) -> str:
        if self.id is None:
            return f"<Job not submitted ({self.submitted.summary()}): {self.script}>"
        return f"<Job {self.id}: {self.script}>"


#: Job states after which a job no longer runs.
FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE",
            "PREEMPTED"}


def sbatch(cluster: Cluster, script: str, *, name: str, folder: str = SHARED, options: str = "") -> Job:
    """Put ``script`` in the shared folder as ``FOLDER/NAME`` and submit it from there (``sbatch``).

    Its output files land in the same folder, which every node sees. ``options``
    are sbatch options on the command line (``"-N 2"``); they win over the script's.
    """
    from .mpi import place_program
    path = place_program(cluster, name, script, folder=folder)
    command = f"cd {shlex.quote(folder)} && sbatch --parsable {options} {shlex.quote(name)}".replace("  ", " ")
    r = _one(run(cluster, command, timeout=60))
    if r.status == "refused":
        return Job(cluster, None, path, r)
    if not r.ok:
        raise ClusterkitError(f"sbatch refused the job: {r.summary()}", node=r.node, field="sbatch")
    return Job(cluster, r.stdout.strip().split(";")[0], path, r)


# ------------------------------------------------------------ the queue and the nodes
def queue(cluster: Cluster) -> list[QueueRow]:
    """The jobs in the queue, running and waiting (``squeue``); [] on the local backend."""
    if not runs_slurm(cluster):
        return []
    r = _one(run(cluster, f"squeue -h -o '{QUEUE_FORMAT}'", timeout=30))
    if not r.ok:
        raise ClusterkitError(f"squeue failed: {r.summary()}", node=r.node, field="squeue")
    return parse_queue(r.stdout)


def parse_queue(text: str) -> list[QueueRow]:
    rows = []
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) != 7:
            continue
        job, name, user, state, used, nodelist, reason = parts
        nodes = list(NodeSet(nodelist)) if nodelist.strip() else []
        rows.append(QueueRow(job, name, user, state, used, nodes, reason if state == "PENDING" else ""))
    return rows


def nodes(cluster: Cluster) -> list[NodeRow]:
    """Every node as Slurm sees it (``sinfo -N``). On the local backend: the rendered slurm.conf's nodes."""
    if not runs_slurm(cluster):
        text = (login(cluster).read_file("/etc/slurm/slurm.conf") or b"").decode()
        out = []
        for line in text.splitlines():
            f = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if "NodeName" in f:
                out += [NodeRow(n, "no slurmd (local backend)", int(f.get("CPUs", 1)), int(f.get("RealMemory", 0)))
                        for n in NodeSet(f["NodeName"])]
        return out
    r = _one(run(cluster, "sinfo -h -N -o '%N|%T|%c|%m|%E'", timeout=30))
    if not r.ok:
        raise ClusterkitError(f"sinfo failed: {r.summary()}", node=r.node, field="sinfo")
    rows = {}
    for line in r.stdout.splitlines():
        parts = line.split("|")
        if len(parts) == 5:
            reason = "" if parts[4] == "none" else parts[4]
            rows.setdefault(parts[0], NodeRow(parts[0], parts[1], int(parts[2]), int(parts[3]), reason))
    return list(rows.values())


def most_cpus(cluster: Cluster) -> int:
    """The most CPUs any one node has (a job asking for more can never run)."""
    return max((n.cpus for n in nodes(cluster)), default=1)


def drain(cluster: Cluster, node: str, *, reason: str) -> ClusterResult:
    """Take a node out of service: running jobs finish, no new job starts there (``scontrol update``)."""
    cluster[node]  # a node of this cluster, or an error naming it
    return admin(cluster, f"scontrol update NodeName={node} State=DRAIN Reason={shlex.quote(reason)}")


def resume(cluster: Cluster, node: str, *, timeout: float = 20.0) -> ClusterResult:
    """Put a drained (or down) node back into service; returns once Slurm sees it answer (at most ``timeout``)."""
    cluster[node]
    result = admin(cluster, f"scontrol update NodeName={node} State=RESUME")
    end = time.monotonic() + timeout
    while result.ok and time.monotonic() < end:
        row = next((n for n in nodes(cluster) if n.name == node), None)
        if row is not None and not row.state.endswith("*"):
            break
        time.sleep(0.25)
    return result


__all__ = ["SQUARES", "Job", "QueueRow", "NodeRow", "run", "admin", "sbatch", "queue", "parse_queue", "nodes",
           "most_cpus", "drain", "resume", "login", "runs_slurm"]
