"""How engines are started on each backend: ipyparallel's own launchers, configured per node.

Every local process (the controller, each engine, ``mpiexec``) is started on a
leash (:mod:`.leash`), so it ends with the Python process that started it even
when that process is killed.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ipyparallel.cluster.launcher import LocalEngineSetLauncher, MPIEngineSetLauncher
from traitlets import List, Unicode

from ..errors import ClusterkitError

#: The leash, run as a file (it imports only the standard library).
LEASH = str(Path(__file__).with_name("leash.py"))


def leashed(command: list[str], *, parent: int | None = None) -> list[str]:
    """``command`` run on a leash to ``parent`` (default: this process)."""
    return [sys.executable, LEASH, str(parent if parent is not None else os.getpid()), "--", *command]


def engine_command(python: str = sys.executable) -> list[str]:
    return [python, "-m", "ipyparallel.engine"]


def node_environment(node) -> dict[str, str]:
    """What a node that is this machine adds to this process's environment (its name, its sandbox, its
    ``hostname``); a node of another kind raises NodeError."""
    return {k: v for k, v in node.env().items() if os.environ.get(k) != v}


def _engine_args(node) -> list[str]:
    """A local engine's arguments: it starts in its node's home (in the node's sandbox)."""
    return [f"--work-dir={node.local_path('.')}", "--log-level=WARN"]


#: A variable kept last in ``mpiexec``'s environment (see ``NodeMPIEngineSetLauncher.get_env``).
ENV_END = "CLUSTERKIT_ENV_END"


@dataclass(frozen=True)
class EngineSet:
    """One ipyparallel engine set to start: its id, how many engines, and settings for its launcher."""

    id: str
    n: int
    launcher: dict = field(default_factory=dict)


class NodeMPIEngineSetLauncher(MPIEngineSetLauncher):
    """``mpiexec`` with one block per node, so every rank knows the node it stands for.

    MPMD form: ``mpiexec -n 1 -env CLUSTERKIT_NODE pc0 … ipengine --mpi : -n 1 -env CLUSTERKIT_NODE pc1 …``.
    """

    node_blocks = List(help="[(engines, environment, extra engine args)] per node, in rank order")
    wdir = Unicode("", help="where every block's ranks start (Hydra's default is mpiexec's own working "
                            "directory, for each block: a global -wdir does not reach MPMD blocks)")

    def get_env(self):
        # The Hydra of mpich 5.0.2 (the PyPI wheel) drops the last variable of mpiexec's environment when
        # `-genvlist` names it: ipyparallel adds IPP_CONNECTION_INFO last, and over SSH no engine got it
        # (seen on the lab; with one more variable after it, every rank does). So one more comes after.
        env = dict(super().get_env())
        env.pop(ENV_END, None)
        env[ENV_END] = "1"
        return env

    def find_args(self):
        args = list(self.mpi_cmd) + list(self.mpi_args)
        for i, (n, env, extra) in enumerate(self.node_blocks):
            if i:
                args.append(":")
            args += ["-n", str(n)] + (["-wdir", self.wdir] if self.wdir else [])
            for key, value in env.items():
                args += ["-env", key, value]
            args += list(self.program) + list(self.program_args) + list(extra)
        return args


def local_engine_sets(nodes: list, *, per_node: int) -> list[EngineSet]:
    """One engine set per local node: its environment, its sandbox home as the working directory."""
    return [EngineSet(id=node.name, n=per_node, launcher={
        "engine_cmd": leashed(engine_command()),
        "engine_args": _engine_args(node),
        "environment": node_environment(node),
    }) for node in nodes]


def find_mpiexec() -> str:
    """The ``mpiexec`` beside this Python (the mpich wheel puts it in the venv's bin), else on PATH."""
    here = Path(sys.executable).with_name("mpiexec")
    if here.exists():
        return str(here)
    found = shutil.which("mpiexec")
    if found is None:
        raise ClusterkitError("no mpiexec: install the mpi extra (`pip install clusterkit[mpi]`)",
                              field="mpiexec")
    return found


def local_mpi_engine_set(nodes: list, *, per_node: int, mpiexec: str | None = None) -> EngineSet:
    """All engines under one leashed ``mpiexec``, one MPMD block per local node."""
    try:
        import mpi4py  # noqa: F401  (the engines need it; say so here rather than in an engine log)
    except ImportError:
        raise ClusterkitError("MPI engines need mpi4py (`pip install clusterkit[mpi]`)", field="mpi") from None
    blocks = [(per_node, node_environment(node), _engine_args(node)) for node in nodes]
    return EngineSet(id="mpi", n=per_node * len(nodes), launcher={
        "mpi_cmd": leashed([mpiexec or find_mpiexec()]),
        "engine_cmd": engine_command(),
        "node_blocks": blocks,
    })


__all__ = ["LEASH", "leashed", "EngineSet", "NodeMPIEngineSetLauncher", "LocalEngineSetLauncher",
           "local_engine_sets", "local_mpi_engine_set", "find_mpiexec", "node_environment"]
