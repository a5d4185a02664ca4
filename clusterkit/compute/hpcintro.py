"""HPC Carpentry's "Introduction to HPC" for this cluster: the lesson's site configuration, from the inventory.

The lesson (carpentries-incubator/hpc-intro) builds a version for each site from
``episodes/files/customization/<site>/_config_options.yml`` (merged over the lesson's
defaults) and a ``snippets/`` folder of per-episode pieces (each missing one falls
back to the lesson's own). :func:`site_files` writes both for a clusterkit cluster: its
name, login node (the primary), a compute node, the learner's user name and prompt,
Slurm's commands and flags, the partition, the modules, and the nodes' CPUs and
memory (from ``slurm.conf``, as ``slurmd -C`` reported them). An instructor copies the
folder into the lesson and builds it with ``HPC_CARPENTRY_CUSTOMIZATION`` pointing at the
config file (``clusterkit hpc-intro-config`` says how).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ClusterShell.NodeSet import NodeSet

from ..errors import ClusterkitError

if TYPE_CHECKING:
    from ..cluster import Cluster

SITE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
PARTITION = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
ARCHES = ("aarch64", "armv7l", "x86_64")
SLURM_CONF = "/etc/slurm/slurm.conf"
EPISODES = ("10-hpc-intro", "11-connecting", "12-cluster", "13-scheduler", "14-environment-variables", "15-modules",
            "16-transferring-files", "17-parallel", "18-resources", "19-responsibility")


@dataclass(frozen=True)
class NodeHardware:
    """What Slurm knows of a compute node: its CPUs and memory (MB)."""

    cpus: int
    memory: int


def hardware_from_slurm_conf(text: str) -> dict[str, NodeHardware]:
    """``NodeName=pc1 … CPUs=4 RealMemory=3794`` lines -> {node: NodeHardware}."""
    out = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or not words[0].startswith("NodeName="):
            continue
        fields = dict(w.split("=", 1) for w in words if "=" in w)
        try:
            hw = NodeHardware(int(fields.get("CPUs", "1")), int(fields.get("RealMemory", "1")))
        except ValueError:
            continue
        for name in NodeSet(fields["NodeName"]):
            out[name] = hw
    return out


def read_hardware(cluster: Cluster) -> dict[str, NodeHardware]:
    """The compute nodes' CPUs and memory, from the primary's ``slurm.conf`` (notebook 10 wrote it)."""
    data = cluster.primary.read_file(SLURM_CONF)
    if data is None:
        raise ClusterkitError(f"no {SLURM_CONF} on {cluster.primary.name}: run notebook 10 first, or give the "
                              "CPUs and memory (--cpus, --memory)", node=cluster.primary.name, field="hardware")
    hw = hardware_from_slurm_conf(data.decode(errors="replace"))
    if not hw:
        raise ClusterkitError(f"{SLURM_CONF} names no node", node=cluster.primary.name, field="hardware")
    return hw


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def site_files(inventory, *, hardware: dict[str, NodeHardware], user: str, site: str | None = None,
               partition: str = "main", arch: str = "aarch64", modules: tuple[str, ...] = ("Python", "MPICH", "amdahl"),
               python_module: str = "Python") -> dict[str, str]:
    """The lesson's site folder for this cluster: relative path -> text. Every input is checked first; a bad one
    is refused naming the field (and the node)."""
    name = inventory.name
    site = site or f"clusterkit_{re.sub(r'[^A-Za-z0-9_]', '_', name)}_slurm"
    if not isinstance(site, str) or not SITE.match(site):
        raise ClusterkitError(f"{site!r} is not a site folder name (a letter, then letters, digits or '_')",
                              field="site")
    if not isinstance(user, str) or not USER.match(user):
        raise ClusterkitError(f"{user!r} is not a user name", field="user")
    if not isinstance(partition, str) or not PARTITION.match(partition):
        raise ClusterkitError(f"{partition!r} is not a partition name", field="partition")
    if arch not in ARCHES:
        raise ClusterkitError(f"{arch!r} is not one of {', '.join(ARCHES)} (uname -m on the nodes)", field="arch")
    nodes = list(inventory.nodes)
    if not hardware:
        raise ClusterkitError("no compute node's CPUs and memory given", node=str(inventory.nodeset),
                              field="hardware")
    for node, hw in hardware.items():
        if node not in nodes:
            raise ClusterkitError(f"{node} is not a node of {name} ({inventory.nodeset})", node=node, field="hardware")
        for fld, value in (("cpus", hw.cpus), ("memory", hw.memory)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ClusterkitError(f"{value!r} is not a positive whole number", node=node, field=fld)
    primary = inventory.primary
    compute = [n for n in nodes if n in hardware]
    node = next((n for n in compute if n != primary), compute[0])
    login = inventory[primary].address or inventory[primary].host or primary
    prompt = f"[{user}@{primary} ~]$"
    config = f"""# HPC Carpentry's "Introduction to High-Performance Computing" on the clusterkit cluster {name},
# written by `clusterkit hpc-intro-config` from its inventory (edit the inventory, not this file,
# and write it again). Copy this folder to the lesson's episodes/files/customization/{site}/,
# then build the lesson with:
#
# > export HPC_CARPENTRY_CUSTOMIZATION=episodes/files/customization/{site}/_config_options.yml
---
snippets: {_q(site)}

local:
  prompt: "[you@laptop:~]$"
  shebang: "#!/bin/bash"

remote:
  name: {_q(f"the {name} cluster (built with clusterkit)")}
  login: {_q(login)}
  host: {_q(primary)}
  hosttype: {_q(arch)}
  node: {_q(node)}
  location: {_q(f"the {name} cluster in this room")}
  user: {_q(user)}
  module_python3: {_q(python_module)}
  prompt: {_q(prompt)}
  shebang: "#!/bin/bash"

  fs:
    home: "/home"

  modules:
    python: {_q(python_module)}

sched:
  name: "Slurm"
  submit:
    name: "sbatch"
    options: ""
  queue:
    debug: {_q(partition)}
    testing: {_q(partition)}
  status: "squeue"
  flag:
    user: {_q(f"-u {user}")}
    interactive: ""
    histdetail: "--long --jobs"
    name: "--job-name"
    account: "--account"
    array: "--array"
    time: "--time"
    queue: "--partition"
    nodes: "--nodes"
    tasks: "--ntasks"
    threads: "--cpus-per-task"
  del: "scancel"
  interactive: "srun"
  info: "sinfo"
  comment: "#SBATCH"
  hist: {_q(f"sacct -u {user}")}
  hist_filter: ""

episode_order:
""" + "".join(f"  - {e}\n" for e in EPISODES)
    folded = NodeSet.fromlist(compute)
    queue = ("```output\nPARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST\n"
             f"{partition + '*':<9} {'up':>5}   infinite {len(compute):>6}   idle {folded}\n```\n")
    rows = "\n".join(f"{n} {hardware[n].cpus} {hardware[n].memory}" for n in compute)
    node_info = f"""::: challenge

## Explore a Worker Node

Finally, let's look at the resources available on the worker nodes
where your jobs will actually run. Try running this command to see
the name, CPUs and memory (MB) available on each node of {name}:

```bash
`r config$remote$prompt` sinfo -N -o "%n %c %m"
```

```output
HOSTNAMES CPUS MEMORY
{rows}
```
:::
"""
    avail = ("```output\n---------------------------- /etc/lmod/modules ----------------------------\n   "
             + "   ".join(modules) + "\n```\n")
    return {"_config_options.yml": config, "snippets/cluster/queue-info.Rmd": queue,
            "snippets/cluster/specific-node-info.Rmd": node_info, "snippets/modules/available-modules.Rmd": avail}


def write_site(folder: str | os.PathLike, files: dict[str, str]) -> list[Path]:
    """Write the site folder's files under ``folder`` (made if missing); returns the paths written."""
    root = Path(folder)
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
        written.append(path)
    return written


__all__ = ["NodeHardware", "hardware_from_slurm_conf", "read_hardware", "site_files", "write_site"]
