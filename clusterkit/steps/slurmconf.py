"""Slurm's files for notebook 10, rendered from the inventory and checked before any node gets them.

``slurm.conf`` is the same file on every node (Slurm warns when they differ): the
controller (the primary), one ``NodeName`` line per compute node with the CPUs and
memory the node itself reports (``slurmd -C``), and the partitions. ``cgroup.conf``
says how jobs are confined.

Checking offline: nothing in Slurm 22.05 validates a whole slurm.conf without a
running controller (``slurmctld`` has no test flag; ``scontrol show config`` asks the
controller). Every Slurm command parses the file first, though, and
``scontrol show hostnames`` needs nothing else: with ``SLURM_CONF`` pointing at the
candidate it reads and parses it (unknown keys, bad numbers, unknown users: exit 1
with Slurm's own message) and contacts nobody. What that parse lets through
(a partition naming a node that has no ``NodeName`` line, a plugin that is not
installed, a misspelt ``SelectTypeParameters``) is checked here by :func:`own_checks`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from ClusterShell.NodeSet import NodeSet, NodeSetParseError

from .base import StepError

CONF = "/etc/slurm/slurm.conf"
CGROUP_CONF = "/etc/slurm/cgroup.conf"
#: slurmdbd's file on the primary: it holds the database password, so mode 600, owner slurm (slurmdbd refuses
#: it otherwise).
DBD_CONF = "/etc/slurm/slurmdbd.conf"
#: The accounting database and its user in MariaDB on the primary.
DB_NAME, DB_USER = "slurm_acct_db", "slurm"
PASSWORD = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
KEY = "/etc/munge/munge.key"
#: Debian's fixed UID (and GID) of the ``slurm`` account, made by the package (its preinst).
SLURM_UID = 64030
#: munged refuses a key shorter than this (bytes); mungekey makes 128 (1024 bits).
KEY_MIN = 32
KEY_BYTES = 128
#: A node that stops answering is DOWN after this many seconds (Slurm's default, 300, suits big machines;
#: on a small teaching cluster a learner should see a pulled plug within half a minute).
SLURMD_TIMEOUT = 30
#: Where a node without cgroups points Slurm's cgroup plugin: an empty folder that no job uses.
NO_CGROUP_DIR = "/var/lib/slurm/no-cgroup"
PARTITION = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
SELECT_PARAMETERS = ("CR_Core", "CR_CPU", "CR_Core_Memory", "CR_CPU_Memory", "CR_Socket", "CR_Memory")


@dataclass(frozen=True)
class Hardware:
    """What a node reports about itself: CPUs and memory in MB (``slurmd -C``'s ``CPUs`` and ``RealMemory``)."""

    cpus: int
    memory: int
    source: str = "slurmd -C"


def parse_slurmd_c(text: str, *, node: str) -> Hardware:
    """``NodeName=pc1 CPUs=4 Boards=1 … RealMemory=3794`` -> Hardware(4, 3794)."""
    fields = dict(w.split("=", 1) for w in text.split() if "=" in w)
    try:
        return Hardware(cpus=int(fields["CPUs"]), memory=int(fields["RealMemory"]))
    except (KeyError, ValueError):
        raise StepError(f"cannot read CPUs and RealMemory from slurmd -C: {text.strip()[:120]!r}", node=node,
                        field="slurmd -C") from None


def this_machine() -> Hardware:
    """This machine's CPUs and memory, as ``slurmd -C`` would report them (the local backend's nodes)."""
    mem = 1024
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) // 1024
                    break
    except OSError:
        pass
    return Hardware(cpus=os.cpu_count() or 1, memory=mem, source="this machine (local backend)")


def check_partitions(partitions, *, nodes: list[str], all_nodes: list[str], where: str) -> dict[str, list[str]]:
    """``{"main": "pc[0-3]"}`` -> ``{"main": ["pc0", …]}``; refuses a bad name, a node that does not exist,
    a node that does not compute, or an empty partition, naming the partition."""
    if not isinstance(partitions, dict) or not partitions:
        raise StepError(f"{partitions!r} is not a mapping of partition names to nodes, e.g. "
                        "{'main': 'pc[0-3]'}", node=where, field="partitions")
    out = {}
    for name, members in partitions.items():
        fld = f"partitions[{name!r}]"
        if not isinstance(name, str) or not PARTITION.match(name) or name.lower() in ("default", "all"):
            raise StepError(f"{name!r} is not a partition name (a letter, then letters, digits, '_' or '-')",
                            node=where, field="partitions")
        try:
            listed = list(NodeSet(members if isinstance(members, str) else ",".join(members)))
        except (NodeSetParseError, TypeError) as e:
            raise StepError(f"{members!r} is not a node set: {e}", node=where, field=fld) from None
        if not listed:
            raise StepError("names no node", node=where, field=fld)
        for n in listed:
            if n not in all_nodes:
                raise StepError(f"{n} is not a node of this cluster ({NodeSet.fromlist(all_nodes)})", node=n,
                                field=fld)
            if n not in nodes:
                raise StepError(f"{n} runs no slurmd (it does not compute here); compute nodes: "
                                f"{NodeSet.fromlist(nodes)}", node=n, field=fld)
        out[name] = listed
    return out


def slurm_conf(*, cluster_name: str, controller: str, controller_address: str | None,
               nodes: dict[str, tuple[str | None, Hardware]], partitions: dict[str, list[str]],
               cgroups: bool, slurmd_timeout: int = SLURMD_TIMEOUT, accounting: bool = False) -> str:
    """The cluster's slurm.conf. ``cgroups``: every node has a cgroup file system (real boards); without it
    (lab nodes) processes are tracked by their parent pids and jobs are not confined. ``accounting``: every job
    is recorded by slurmdbd on the controller (``sacct``), with its memory and CPU use sampled."""
    ctl = f"{controller}({controller_address})" if controller_address else controller
    if cgroups:
        track = ("# Jobs live in cgroups: every process of a job is found and ended, and a job keeps to its cores.\n"
                 "ProctrackType=proctrack/cgroup\nTaskPlugin=task/cgroup,task/affinity\n")
    else:
        track = ("# These nodes have no cgroup file system: processes are tracked by parent pid, jobs are not\n"
                 "# confined (a real board uses proctrack/cgroup and task/cgroup,task/affinity).\n"
                 "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n")
    lines = [
        "# Slurm on a clusterkit cluster, written by the slurm step (notebook 10): the same file on every node.",
        f"ClusterName={cluster_name.lower()}",
        f"SlurmctldHost={ctl}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        "SlurmUser=slurm",
        "StateSaveLocation=/var/lib/slurm/slurmctld",
        "SlurmdSpoolDir=/var/lib/slurm/slurmd",
        "SlurmctldPidFile=/run/slurmctld.pid",
        "SlurmdPidFile=/run/slurmd.pid",
        "SlurmctldLogFile=/var/log/slurm/slurmctld.log",
        "SlurmdLogFile=/var/log/slurm/slurmd.log",
        track.rstrip("\n"),
        "# MPI programs start with a plain srun (MPICH and mpi4py speak PMI-2).",
        "MpiDefault=pmi2",
        "# Cores are what jobs ask for and get; memory is not counted (every job may use the node's).",
        "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        *(["# Every job is recorded by slurmdbd on the controller (sacct); its memory and CPU use sampled each 2 s.",
           "AccountingStorageType=accounting_storage/slurmdbd",
           f"AccountingStorageHost={controller}",
           "JobAcctGatherType=jobacct_gather/linux",
           "JobAcctGatherFrequency=task=2"] if accounting else
          ["AccountingStorageType=accounting_storage/none",
           "JobAcctGatherType=jobacct_gather/none"]),
        f"# A node silent for {slurmd_timeout} s is DOWN; it comes back by itself once its slurmd registers again.",
        f"SlurmdTimeout={slurmd_timeout}",
        "ReturnToService=2",
        "# An srun or salloc that stops answering (killed, its terminal closed) gives its nodes back after a minute.",
        "InactiveLimit=60",
        "# The nodes, with the CPUs and memory (MB) each reported (slurmd -C).",
    ]
    for name, (address, hw) in nodes.items():
        addr = f" NodeAddr={address}" if address else ""
        lines.append(f"NodeName={name}{addr} CPUs={hw.cpus} RealMemory={hw.memory} State=UNKNOWN")
    for i, (name, members) in enumerate(partitions.items()):
        default = " Default=YES" if i == 0 else ""
        lines.append(f"PartitionName={name} Nodes={NodeSet.fromlist(members)}{default} MaxTime=INFINITE State=UP")
    return "\n".join(lines) + "\n"


def slurmdbd_conf(*, host: str, password: str) -> str:
    """slurmdbd.conf for the primary: slurmdbd there, MariaDB on the same node (its socket), the database
    password (generated, never shown: the file is mode 600 and plans call it secret)."""
    if not isinstance(password, str) or not PASSWORD.match(password):
        raise StepError("the database password must be 16 to 128 letters, digits, '_' or '-'", node=host,
                        field="StoragePass")
    return "\n".join([
        "# slurmdbd on a clusterkit cluster, written by the slurm step (accounting=True). Mode 600: it holds",
        "# the database password.",
        "AuthType=auth/munge",
        f"DbdHost={host}",
        "SlurmUser=slurm",
        "PidFile=/run/slurmdbd.pid",
        "LogFile=/var/log/slurm/slurmdbd.log",
        "StorageType=accounting_storage/mysql",
        "StorageHost=localhost",
        f"StorageLoc={DB_NAME}",
        f"StorageUser={DB_USER}",
        f"StoragePass={password}",
    ]) + "\n"


def dbd_password(text: str | None) -> str | None:
    """The database password an existing slurmdbd.conf holds (None: no file, or none in it)."""
    for _no, key, value, _rest in settings(text or ""):
        if key == "StoragePass" and PASSWORD.match(value):
            return value
    return None


def grant_sql(password: str) -> str:
    """What MariaDB's root runs (on its stdin, never on a command line): the database and its one user."""
    return (f"CREATE DATABASE IF NOT EXISTS {DB_NAME};\n"
            f"CREATE USER IF NOT EXISTS '{DB_USER}'@'localhost' IDENTIFIED BY '{password}';\n"
            f"ALTER USER '{DB_USER}'@'localhost' IDENTIFIED BY '{password}';\n"
            f"GRANT ALL ON {DB_NAME}.* TO '{DB_USER}'@'localhost';\n")


def cgroup_conf(*, cgroups: bool) -> str:
    """cgroup.conf: confine cores on real boards (memory stays unconfined: Raspberry Pi OS kernels boot with
    the memory controller off unless ``cgroup_enable=memory`` is in cmdline.txt); on nodes without cgroups,
    slurmd's cgroup plugin (which it loads in any case) is pointed at an empty folder."""
    if cgroups:
        return ("# Slurm's cgroups on a clusterkit cluster (notebook 10).\nCgroupPlugin=autodetect\n"
                "ConstrainCores=yes\nConstrainRAMSpace=no\n")
    return ("# Slurm's cgroups on a clusterkit cluster (notebook 10): these nodes have no cgroup file system,\n"
            "# so the plugin slurmd always loads looks at an empty folder; nothing uses it (task/none).\n"
            f"CgroupPlugin=cgroup/v1\nCgroupMountpoint={NO_CGROUP_DIR}\nCgroupAutomount=no\n")


def settings(text: str) -> list[tuple[int, str, str, str]]:
    """(line number, key, value, rest of the line) of every ``Key=Value`` line of a slurm.conf."""
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if words and "=" in words[0]:
            key, value = words[0].split("=", 1)
            out.append((no, key, value, " ".join(words[1:])))
    return out


def own_checks(text: str, *, plugins: set[str] | None = None) -> list[str]:
    """What Slurm's parse lets through: partitions naming nodes with no NodeName line, a controller that is
    not a node, unknown SelectTypeParameters, plugins not installed (``plugins``: the node's plugin names)."""
    problems = []
    defined: set[str] = set()
    rows = settings(text)
    for no, key, value, _rest in rows:
        if key == "NodeName":
            defined |= set(NodeSet(value))
    for no, key, value, rest in rows:
        if key == "PartitionName":
            members = dict(w.split("=", 1) for w in rest.split() if "=" in w).get("Nodes", "")
            missing = set(NodeSet(members)) - defined if members != "ALL" else set()
            if missing:
                problems.append(f"line {no}: partition {value} names {NodeSet.fromlist(sorted(missing))}, "
                                "which has no NodeName line")
        elif key == "SlurmctldHost":
            host = value.split("(", 1)[0]
            if defined and host not in defined:
                problems.append(f"line {no}: the controller {host} is not one of the nodes")
        elif key == "SelectTypeParameters" and value not in SELECT_PARAMETERS:
            problems.append(f"line {no}: {value} is not one of {', '.join(SELECT_PARAMETERS)}")
        elif plugins is not None and (key.endswith("Type") or key in ("TaskPlugin", "MpiDefault")):
            for plugin in value.split(","):
                plugin = f"mpi/{plugin}" if key == "MpiDefault" else plugin
                if "/" in plugin and plugin.replace("/", "_") not in plugins:
                    problems.append(f"line {no}: plugin {plugin} is not installed on this node")
    return problems


#: Parses the candidate (stdin) with Slurm's own reader; contacts no daemon. Exit 127: no scontrol here.
PARSE = ('command -v scontrol >/dev/null || exit 127; t=$(mktemp) || exit 9; cat > "$t"; '
         'SLURM_CONF="$t" scontrol show hostnames {nodes} >/dev/null; rc=$?; rm -f "$t"; exit $rc')


def parse_with_slurm(text: str, *, node, nodes: str) -> str | None:
    """Slurm's own parse of the candidate, on ``node`` where its platform runs checks there (its scontrol and
    accounts), else on this machine when it has scontrol. Returns where it was parsed (None: no scontrol anywhere)."""
    r = node.platform.check_on_node(node, PARSE.format(nodes=nodes), stdin=text, timeout=30)
    if r is not None:
        if r.exit_code == 127:
            return None
        if not r.ok:
            raise StepError(f"Slurm's parse rejects it: {_slurm_error(r.stderr or r.summary())}", node=node.name,
                            field=CONF)
        return f"scontrol on {node.name}"
    scontrol = shutil.which("scontrol")
    if scontrol is None:
        return None
    with tempfile.NamedTemporaryFile("w", prefix="clusterkit-slurm-", suffix=".conf") as f:
        f.write(text)
        f.flush()
        r = subprocess.run([scontrol, "show", "hostnames", nodes], capture_output=True, text=True, timeout=30,
                           env={**os.environ, "SLURM_CONF": f.name}, check=False)
    if r.returncode != 0:
        raise StepError(f"Slurm's parse rejects it: {_slurm_error(r.stderr)}", node=node.name, field=CONF)
    return "scontrol on this machine"


def _slurm_error(stderr: str) -> str:
    """The first ``error:`` line of a Slurm command (the cause; the ``fatal:`` line after it is generic)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if "error:" in ln:
            return ln.split("error:", 1)[1].strip()
    return lines[-1] if lines else "no message"
