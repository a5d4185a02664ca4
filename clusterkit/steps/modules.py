"""Notebook 11: a module system (Lmod) on every node, with modules for the cluster's Python, its MPI and ``amdahl``.

HPC clusters keep many versions of their software side by side and let each
person choose with ``module load``; HPC Carpentry's lesson teaches it
(episode 15). This step gives the cluster the same:

- Lmod (Debian's ``lmod``) on every node; its login script (``/etc/profile.d/lmod.sh``)
  gives every login shell the ``module`` command;
- modulefiles in Lmod's site folder (``/etc/lmod/modules``), the same on every node:
  ``Python/X.Y.Z`` (the cluster's Python, the inventory's ``python:``, with numpy and
  mpi4py), ``MPICH/V`` (its MPI; ``mpiexec`` sits in the same folder as that Python),
  and ``amdahl/0.4.1`` (the lesson's MPI pseudo-application, which loads Python);
- ``amdahl`` installed **offline**: its wheel, cached on the workbook's machine by
  ``scripts/setup.sh``, is copied into the shared folder and installed from there
  into ``SHARED/software/amdahl/VERSION`` on the primary, which every node sees.

Loading ``Python`` changes ``which python3`` from the system's ``/usr/bin/python3``
to the cluster's; ``module purge`` changes it back.
"""

from __future__ import annotations

import glob
import os
import posixpath
import sys
from shlex import quote as _q
from typing import TYPE_CHECKING

from .actions import wanted
from .base import Command, FileChange, NodePlan, Reader, Step, StepError
from .nfsconf import check_path

if TYPE_CHECKING:
    from ..cluster import Cluster

#: Lmod's site folder of modulefiles (Debian's ``/etc/lmod/modulespath`` lists it).
MODULES = "/etc/lmod/modules"
SHARED = "/srv/shared"
#: What the primary's Python reports: its version, numpy's, mpi4py's and the MPICH wheel's.
VERSIONS = ("{py} -c \"import sys, importlib.metadata as m; "
            "print(sys.executable, sys.version.split()[0], *(m.version(p) for p in ('numpy', 'mpi4py', 'mpich')))\"")


def cached_wheel(folder: str | None = None) -> str | None:
    """The newest amdahl wheel that setup cached on this machine (``VENV/share/clusterkit/wheels``), or None."""
    folder = folder or os.environ.get("CLUSTERKIT_WHEELS") or os.path.join(sys.prefix, "share", "clusterkit", "wheels")
    found = sorted(glob.glob(os.path.join(folder, "amdahl-*.whl")))
    return found[-1] if found else None


def python_module(*, python: str, version: str, numpy: str, mpi4py: str) -> str:
    """The modulefile of the cluster's Python (Lua)."""
    bindir = posixpath.dirname(python)
    return f"""-- The cluster's Python, written by clusterkit's modules step (notebook 11): the same file on every node.
help([[The Python every node of this cluster runs ({python}),
with numpy {numpy} and mpi4py {mpi4py}. MPICH's mpiexec is in the same folder.]])
whatis("Name: Python")
whatis("Version: {version}")
whatis("Description: the cluster's Python with numpy {numpy} and mpi4py {mpi4py}")
family("python")
prepend_path("PATH", "{bindir}")
"""


def mpich_module(*, python: str, version: str) -> str:
    """The modulefile of the cluster's MPI: MPICH from PyPI, whose programs sit beside the cluster's Python."""
    bindir = posixpath.dirname(python)
    return f"""-- The cluster's MPI, written by clusterkit's modules step (notebook 11): the same file on every node.
help([[MPICH {version} (from PyPI): mpiexec, mpicc. Its folder is the cluster's Python's
({bindir}), so loading it also puts that Python first on PATH.]])
whatis("Name: MPICH")
whatis("Version: {version}")
whatis("Description: MPICH, the MPI library mpi4py uses on this cluster")
family("mpi")
prepend_path("PATH", "{bindir}")
"""


def amdahl_module(*, prefix: str, version: str, python_module: str) -> str:
    """The modulefile of ``amdahl``, installed under ``prefix`` in the shared folder."""
    return f"""-- amdahl, HPC Carpentry's MPI pseudo-application, written by clusterkit's modules step (notebook 11).
help([[amdahl {version}: a program whose run time follows Amdahl's law (episode 17 of HPC Carpentry's
Introduction to HPC). Installed offline from its wheel into {prefix}, in the shared folder.]])
whatis("Name: amdahl")
whatis("Version: {version}")
depends_on("{python_module}")
prepend_path("PATH", "{prefix}/bin")
prepend_path("PYTHONPATH", "{prefix}")
"""


class Modules(Step):
    """Lmod and the cluster's modules on every node; amdahl installed from its cached wheel into the shared folder.

    ``shared``: the shared folder of notebook 04 (the wheel and the software go
    there). ``wheel``: the amdahl wheel on this machine (default: the one setup cached).
    """

    title = "modules"

    def __init__(self, cluster: Cluster, *, shared: str = SHARED, wheel: str | None = None, nodes=None):
        super().__init__(cluster, nodes=nodes)
        self.primary = cluster.inventory.primary
        self.shared = shared
        self.wheel = wheel if wheel is not None else cached_wheel()

    def __repr__(self) -> str:
        return f"<Modules Python, MPICH, amdahl on {self.where}>"

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        where = self.where
        check_path(self.shared, fld="shared", where=where)
        if self.primary not in self.names:
            raise StepError("amdahl is installed from the primary: it must be one of the nodes this step works on",
                            node=self.primary, field="nodes")
        if not self.wheel or not os.path.isfile(self.wheel):
            raise StepError(f"no amdahl wheel on this machine ({self.wheel or 'none cached'}): run scripts/setup.sh "
                            "once with network (it caches the wheel), or give wheel='amdahl-0.4.1-py3-none-any.whl'",
                            node=where, field="wheel")
        name = os.path.basename(self.wheel)
        parts = name.split("-")
        if len(parts) < 3 or parts[0] != "amdahl" or not name.endswith(".whl"):
            raise StepError(f"{name} is not an amdahl wheel (amdahl-VERSION-…whl)", node=where, field="wheel")
        self.amdahl_version = parts[1]
        python = self.cluster.inventory.python
        if not isinstance(python, str) or not python or any(c.isspace() for c in python):
            raise StepError(f"the inventory's python {python!r} is not a program's name or path", node=where,
                            field="python")
        self.asked = python
        self.wheel_dest = f"{self.shared}/wheels/{name}"
        self.prefix = f"{self.shared}/software/amdahl/{self.amdahl_version}"

    # ------------------------------------------------------------ reading
    def plan(self):
        """Ask the primary's Python for its versions (they name the modulefiles), then plan as every step does."""
        self.validate()
        primary = self.cluster[self.primary]
        r = primary.run(VERSIONS.format(py=_q(self.asked)), timeout=60)
        words = r.stdout.split()
        if not r.ok or len(words) != 5:
            why = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.summary()
            raise StepError(f"the cluster's Python {self.asked} lacks numpy, mpi4py or mpich: {why}",
                            node=self.primary, field="python")
        self.python, py, numpy, mpi4py, mpich = words      # the interpreter's own path (a venv's, not /usr/bin)
        self.python_name = f"Python/{py}"
        self.files = {
            f"{MODULES}/Python/{py}.lua": python_module(python=self.python, version=py, numpy=numpy, mpi4py=mpi4py),
            f"{MODULES}/MPICH/{mpich}.lua": mpich_module(python=self.python, version=mpich),
            f"{MODULES}/amdahl/{self.amdahl_version}.lua": amdahl_module(prefix=self.prefix,
                                                                         version=self.amdahl_version,
                                                                         python_module=self.python_name),
        }
        return super().plan()

    def read(self, node, reader: Reader) -> dict:
        state = {"files": {path: reader(path) for path in self.files}}
        state["have"] = node.platform.live(
            lambda: node.platform.probe(node, "test -e /usr/share/lmod/lmod/libexec/lmod && echo lmod; "
                                              f"test -x {_q(self.prefix)}/bin/amdahl && echo amdahl; "
                                              f"for d in {self._dirs()}; do [ \"$(stat -c %a $d 2>/dev/null)\" = 755 ] "
                                              "|| echo closed; done"),
            otherwise={"lmod", "amdahl"})
        if node.name == self.primary:
            state["wheel"] = reader(self.wheel_dest)
        return state

    def _dirs(self) -> str:
        return " ".join(_q(posixpath.dirname(p)) for p in self.files)

    # ------------------------------------------------------------ planning
    def node_plan(self, node, s: dict, states) -> NodePlan:
        plan = NodePlan(node.name)
        plan.actions += wanted(node.platform.have_package("lmod", installed="lmod" in s["have"],
                                                          why="Lmod, the module system (module avail, module load)"))
        if "closed" in s["have"]:
            plan.actions.append(Command(f"install -d -m 755 {self._dirs()}", "folders every user may read"))
        for path, text in self.files.items():
            old = s["files"][path]
            if old != text.encode():
                plan.actions.append(FileChange(path, old, text.encode(), mode=0o644,
                                               why="a modulefile, the same on every node"))
        if node.name == self.primary:
            with open(self.wheel, "rb") as f:
                data = f.read()
            if s["wheel"] != data:
                plan.actions.append(Command(f"install -d -m 755 {_q(posixpath.dirname(self.wheel_dest))}",
                                            "the shared folder's wheels"))
                plan.actions.append(FileChange(self.wheel_dest, s["wheel"], data, mode=0o644,
                                               why="amdahl's wheel, from this machine's cache (no network needed)"))
            if s["wheel"] != data or "amdahl" not in s["have"]:
                plan.actions.append(Command(
                    f"{_q(self.python)} -m pip install -q --no-index --no-deps --no-compile --upgrade "
                    f"--target {_q(self.prefix)} {_q(self.wheel_dest)} && chmod -R a+rX {_q(self.prefix)}",
                    "amdahl installed offline into the shared folder, for every node"))
        return plan

    # ------------------------------------------------------------ checks
    def verify_node(self, node) -> str | None:
        r = node.run("bash -lc 'module -t avail 2>&1; module load amdahl && command -v python3 amdahl'", timeout=60)
        if not r.ok:
            raise StepError(f"module load amdahl fails in a login shell: {r.summary()}", node=node.name,
                            field="modules")
        lines = r.stdout.split()
        if posixpath.dirname(self.python) + "/python3" not in lines:
            raise StepError(f"after module load, python3 is not the cluster's ({' '.join(lines[-2:])})",
                            node=node.name, field="modules")
        return f"module load amdahl: python3 and amdahl are the cluster's ({self.python_name})"


__all__ = ["Modules", "cached_wheel", "python_module", "mpich_module", "amdahl_module", "MODULES"]
