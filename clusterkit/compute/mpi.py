"""MPI programs across the nodes: ``mpiexec`` (mpich's Hydra) over SSH, and the same program locally.

On the lab and on boards the program sits in the shared folder (notebook 04),
so every node runs the same file: "compile on the primary, put it in the shared
folder, run it everywhere". Hydra starts one proxy per host over SSH (with
clusterkit's ssh config and the key from notebook 03) and the ranks start from
there. Locally the same program runs under this machine's ``mpiexec``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ClusterkitError
from .launch import EngineSet, find_mpiexec, leashed

if TYPE_CHECKING:
    from ..cluster import Cluster

#: The shared folder of notebook 04 (``steps.Nfs``' default): exported by the primary, mounted at the same path
#: on every worker.
SHARED = "/srv/shared"

#: A small MPI program: Monte Carlo π with an allreduce, and a token passed around a ring.
PI_RING = '''\
"""π by Monte Carlo on every rank, summed with allreduce; then a token passed once around the ring."""
import os, socket, sys
from mpi4py import MPI
from clusterkit.compute.mpi import ring

samples = int(sys.argv[1]) if len(sys.argv) > 1 else 4_000_000
mine = ring(samples)
names = MPI.COMM_WORLD.gather(os.environ.get("CLUSTERKIT_NODE") or socket.gethostname(), root=0)
if mine["rank"] == 0:
    print(f"pi {mine['pi']:.6f} from {samples} points on {mine['size']} ranks")
    print("ring", " -> ".join(map(str, mine["ring"] + [0])))
    print("ranks on", ",".join(names))
'''


@dataclass(frozen=True)
class MpiCommand:
    """An ``mpiexec`` command line and the environment it needs (over SSH: Hydra's settings)."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def shell(self) -> str:
        """The command as one would type it in a terminal."""
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        return (prefix + " " if prefix else "") + shlex.join(self.argv)

    def run(self, *, timeout: float = 120.0, cwd: str | None = None) -> subprocess.CompletedProcess:
        """Run it (on a leash: if this process dies, mpiexec and its ranks end too), bounded by ``timeout``."""
        env = dict(os.environ, **self.env)
        try:
            return subprocess.run(leashed(self.argv), env=env, cwd=cwd, capture_output=True, text=True,
                                  timeout=timeout, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise ClusterkitError(f"mpiexec did not finish within {timeout:g} s", field="timeout") from None


def hydra_over_ssh(*, hosts: list[str], per_node: int = 1, mpiexec: str = "mpiexec", ssh_config: str | None = None,
                   local_address: str | None = None, wdir: str | None = None,
                   env_list: tuple[str, ...] = ()) -> MpiCommand:
    """``mpiexec`` over SSH on ``hosts`` (names from clusterkit's ssh config), ``per_node`` ranks on each,
    without the ranks' count and program (they follow: ``-n N PROGRAM``, or one MPMD block per node).

    ``HYDRA_LAUNCHER_AUTOFORK=0`` makes Hydra use SSH even for a name that is
    this machine's (a lab node is not this machine); ``HYDRA_LAUNCHER_EXTRA_ARGS``
    hands ssh the config file; ``-localhost`` is the address the nodes reach
    this machine by (Hydra's proxies connect back to it). ``-genvnone`` keeps
    this machine's environment (its PATH, HOME, virtualenv) off the nodes:
    ranks get the node's own login environment plus the variables named in
    ``env_list``, which travel inside Hydra's connection, not on a command line.
    ``-wdir`` is where ranks start (Hydra's default is this machine's working
    directory, which a node may not have).
    """
    if not hosts:
        raise ClusterkitError("needs at least one host", field="hosts")
    if per_node < 1:
        raise ClusterkitError(f"must be at least 1, not {per_node}", field="per_node")
    argv = [mpiexec, "-launcher", "ssh", "-hosts", ",".join(hosts), "-ppn", str(per_node)]
    if local_address:
        argv += ["-localhost", local_address]
    argv += ["-genvlist", ",".join(env_list)] if env_list else ["-genvnone"]
    if wdir:
        argv += ["-wdir", wdir]
    env = {"HYDRA_LAUNCHER_AUTOFORK": "0"}
    if ssh_config:
        env["HYDRA_LAUNCHER_EXTRA_ARGS"] = f"-F {shlex.quote(str(ssh_config))}"
    return MpiCommand(argv, env)


def mpiexec_command(*, hosts: list[str], program: list[str], per_node: int = 1, mpiexec: str = "mpiexec",
                    ssh_config: str | None = None, local_address: str | None = None,
                    wdir: str | None = None) -> MpiCommand:
    """``program`` under ``mpiexec`` over SSH on ``hosts``, ``per_node`` ranks on each (see :func:`hydra_over_ssh`)."""
    if not program:
        raise ClusterkitError("needs a program to run", field="program")
    hydra = hydra_over_ssh(hosts=hosts, per_node=per_node, mpiexec=mpiexec, ssh_config=ssh_config,
                           local_address=local_address, wdir=wdir)
    return MpiCommand(hydra.argv + ["-n", str(per_node * len(hosts))] + list(program), hydra.env)


def local_command(*, ranks: int, program: list[str], mpiexec: str | None = None,
                  nodes: list[str] | None = None) -> MpiCommand:
    """The same program under this machine's ``mpiexec`` (fork launcher), ``ranks`` ranks.

    With ``nodes`` (one per rank), each rank is told the node it stands for
    (``CLUSTERKIT_NODE``), as local engines are.
    """
    exe = mpiexec or find_mpiexec()
    if ranks < 1:
        raise ClusterkitError(f"must be at least 1, not {ranks}", field="ranks")
    if nodes is None:
        return MpiCommand([exe, "-n", str(ranks)] + list(program))
    if len(nodes) != ranks:
        raise ClusterkitError(f"{len(nodes)} nodes for {ranks} ranks", field="nodes")
    argv = [exe]
    for i, node in enumerate(nodes):
        argv += ([":"] if i else []) + ["-n", "1", "-env", "CLUSTERKIT_NODE", node] + list(program)
    return MpiCommand(argv)


def command_for(cluster: Cluster, program: list[str], *, per_node: int = 1) -> MpiCommand:
    """``program`` on every node of ``cluster``, ``per_node`` ranks each, started the way the nodes' Platform
    chooses (:class:`RankWays`): under this machine's mpiexec, or by mpiexec over SSH.

    Over SSH the ranks run the inventory's Python, so give ``program`` without
    the interpreter when it is a Python file: ``["/shared/pi_ring.py"]``.
    """
    way = cluster.primary.platform.start_ranks(RankWays)
    return way(cluster, program, per_node=per_node)


class RankWays:
    """The ways MPI ranks start, handed to a node's Platform to choose one (``Platform.start_ranks``)."""

    @staticmethod
    def here(cluster: Cluster, program: list[str], *, per_node: int) -> MpiCommand:
        """Every rank on this machine under its own mpiexec, each told the node it stands for."""
        ranks = [n.name for n in cluster for _ in range(per_node)]
        return local_command(ranks=len(ranks), program=python_program(*program, python=cluster.python), nodes=ranks)

    @staticmethod
    def over_ssh(cluster: Cluster, program: list[str], *, per_node: int) -> MpiCommand:
        """Hydra here, reaching every node over SSH; the ranks start in the program's folder."""
        hydra = _hydra_for(cluster, list(cluster), per_node=per_node, wdir=os.path.dirname(program[0]) or None)
        return MpiCommand(hydra.argv + ["-n", str(per_node * len(cluster))] + [cluster.python, *program], hydra.env)


def _hydra_for(cluster: Cluster, nodes: list, *, per_node: int, wdir: str | None, address: str | None = None,
               env_list: tuple[str, ...] = ()) -> MpiCommand:
    """Hydra over SSH to ``nodes``, with clusterkit's ssh config (the key of notebook 03, the pinned host keys)."""
    from .remote import controller_for, ssh_config_for
    return hydra_over_ssh(hosts=[n.name for n in nodes], per_node=per_node, mpiexec=find_mpiexec(),
                          ssh_config=str(ssh_config_for(cluster)),
                          local_address=address or controller_for(cluster, nodes), wdir=wdir, env_list=env_list)


def ssh_mpi_engine_set(cluster: Cluster, nodes: list, *, per_node: int) -> tuple[EngineSet, str]:
    """MPI engines on the nodes: one leashed ``mpiexec`` here, Hydra over SSH, one MPMD block per node.

    The engines' connection info reaches them in Hydra's environment list
    (``IPP_CONNECTION_INFO``, set by ipyparallel), so no file has to be copied
    to the nodes. Ranks start in the user's home. Returns the engine set and
    the address the controller must listen on.
    """
    pwd = cluster.primary.run("pwd", timeout=cluster.connect_timeout + 10)   # the user's home: one user, one path
    if not pwd.ok:
        raise ClusterkitError(f"cannot reach the primary: {pwd.error or pwd.summary()}", node=pwd.node,
                              field="connect")
    from .remote import controller_for
    address = controller_for(cluster, nodes)
    hydra = _hydra_for(cluster, nodes, per_node=per_node, wdir=None, address=address,
                       env_list=("IPP_CONNECTION_INFO",))
    python = cluster.python
    blocks = [(per_node, {"CLUSTERKIT_NODE": n.name}, ["--log-level=WARN"]) for n in nodes]
    engine_set = EngineSet(id="mpi", n=per_node * len(nodes), launcher={
        "mpi_cmd": leashed(hydra.argv), "engine_cmd": [python, "-m", "ipyparallel.engine"],
        "node_blocks": blocks, "wdir": pwd.stdout.strip(), "environment": dict(hydra.env)})
    return engine_set, address


def place_program(cluster: Cluster, name: str, text: str, *, folder: str = SHARED) -> str:
    """Put a program in the shared folder on the primary (``FOLDER/NAME``); returns the path the ranks run.

    On the lab and boards the folder is the NFS export of notebook 04, mounted
    at the same path on every worker, so one file is everyone's program. On the
    local backend (a primary with a sandbox) it is that folder in the primary's
    sandbox, which every local rank can read.
    """
    if "/" in name or not name:
        raise ClusterkitError(f"must be a file name, not {name!r}", field="name")
    primary = cluster.primary
    opened = primary.platform.writable_folder(primary, folder)
    if opened is None:
        raise ClusterkitError(f"{folder} is not a folder this user can write: share it first (notebook 04, "
                              f"steps.Nfs)", node=primary.name, field="folder")
    primary.write_file(f"{folder.rstrip('/')}/{name}", text.encode(), mode=0o755, backup=False)
    return f"{opened.rstrip('/')}/{name}"


# ------------------------------------------------------------ on MPI engines
def ring(samples: int = 1_000_000) -> dict:
    """On an MPI engine: a token passed once around the ranks, and π with an allreduce of the counts."""
    import os as _os

    from mpi4py import MPI

    from ..workloads import DEFAULT_SEED, pi_samples, shares
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    inside = comm.allreduce(pi_samples(shares(samples, size)[rank], DEFAULT_SEED, rank), op=MPI.SUM)
    if size == 1:
        token = [0]
    elif rank == 0:
        comm.send([0], dest=1)
        token = comm.recv(source=size - 1)
    else:
        token = comm.recv(source=rank - 1) + [rank]
        comm.send(token, dest=(rank + 1) % size)
    return {"rank": rank, "size": size, "node": _os.environ.get("CLUSTERKIT_NODE", ""),
            "pi": 4 * inside / samples, "ring": token if rank == 0 else None}


def python_program(path: str, *args: str, python: str = sys.executable) -> list[str]:
    """``[python, path, args…]``: a Python MPI program as mpiexec runs it."""
    return [python, path, *args]


__all__ = ["MpiCommand", "hydra_over_ssh", "mpiexec_command", "ssh_mpi_engine_set", "local_command", "command_for",
           "place_program", "ring", "python_program", "PI_RING", "SHARED", "RankWays"]
