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
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ClusterkitError
from .launch import find_mpiexec, leashed

#: Where the shared folder (notebook 04) is mounted on every node of the lab and the boards.
SHARED = "/shared"

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


def mpiexec_command(*, hosts: list[str], program: list[str], per_node: int = 1, mpiexec: str = "mpiexec",
                    ssh_config: str | None = None, local_address: str | None = None) -> MpiCommand:
    """``mpiexec`` over SSH on ``hosts`` (names from clusterkit's ssh config), ``per_node`` ranks on each.

    ``HYDRA_LAUNCHER_AUTOFORK=0`` makes Hydra use SSH even for a name that is
    this machine's (a lab node is not this machine); ``HYDRA_LAUNCHER_EXTRA_ARGS``
    hands ssh the config file; ``-localhost`` is the address the nodes reach
    this machine by (Hydra's proxies connect back to it).
    """
    if not hosts:
        raise ClusterkitError("needs at least one host", field="hosts")
    if per_node < 1:
        raise ClusterkitError(f"must be at least 1, not {per_node}", field="per_node")
    if not program:
        raise ClusterkitError("needs a program to run", field="program")
    argv = [mpiexec, "-launcher", "ssh", "-hosts", ",".join(hosts), "-ppn", str(per_node),
            "-n", str(per_node * len(hosts))]
    if local_address:
        argv += ["-localhost", local_address]
    env = {"HYDRA_LAUNCHER_AUTOFORK": "0"}
    if ssh_config:
        env["HYDRA_LAUNCHER_EXTRA_ARGS"] = f"-F {shlex.quote(str(ssh_config))}"
    return MpiCommand(argv + list(program), env)


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


def command_for(cluster, program: list[str], *, per_node: int = 1) -> MpiCommand:
    """``program`` on every node of ``cluster``, ``per_node`` ranks each: local mpiexec, or mpiexec over SSH.

    Over SSH the ranks run the inventory's Python, so give ``program`` without
    the interpreter when it is a Python file: ``["/shared/pi_ring.py"]``.
    """
    names = [n.name for n in cluster]
    if cluster.backend == "local":
        ranks = [n for n in names for _ in range(per_node)]
        return local_command(ranks=len(ranks), program=python_program(*program), nodes=ranks)
    from .remote import controller_address, ssh_options, write_ssh_config
    identity, known = ssh_options(cluster)
    config = write_ssh_config(Path(tempfile.gettempdir()) / f"clusterkit-{cluster.name}-ssh_config",
                              cluster.inventory, identity=identity, known_hosts=known)
    first = cluster.inventory[names[0]]
    return mpiexec_command(hosts=names, program=[cluster.inventory.python, *program], per_node=per_node,
                           mpiexec=find_mpiexec(), ssh_config=str(config),
                           local_address=controller_address(first.host, first.port))


def place_program(cluster, name: str, text: str) -> str:
    """Put a program in the shared folder of the primary (``shared/NAME``); returns the path ranks run.

    On the local backend the shared folder is a directory of the primary's
    sandbox that every local rank can read; on the lab and boards it is the
    NFS export of notebook 04, mounted at the same path on every node.
    """
    primary = cluster.primary
    primary.write_file(f"shared/{name}", text.encode(), mode=0o755, backup=False)
    return str(primary.path(f"shared/{name}")) if cluster.backend == "local" else f"{SHARED}/{name}"


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


__all__ = ["MpiCommand", "mpiexec_command", "local_command", "command_for", "place_program", "ring",
           "python_program", "PI_RING", "SHARED"]
