"""Where each notebook starts: the chain of setup steps, what each notebook needs of it, and how to check it.

The notebooks set a cluster up in order: 01 users → 02 network → 03 keys →
04 NFS → 05 time. A notebook that starts from an earlier one's work calls
:func:`needs` in its first cells. It checks, cheaply and on every node, that
the earlier steps are done (the user exists with its UID, the node has its
cluster name and address, the user's key logs in) and, on the lab or on
boards, raises :class:`NotReady` before anything starts: one line naming the
nodes, what is missing and the notebooks to run. On the local backend the
nodes are sandbox folders of this machine and the steps only write files
there, so a missing step is applied into the sandboxes instead, and shown.

:func:`reapply` applies chosen steps again, idempotently, and shows per step
"nothing to change" or what it changed (notebook 08 uses it for the shared
folder; a lab is prepared for a later notebook with it). Like a step's apply, it
saves nothing to the inventory file unless asked (``report.save_inventory()``).

Each notebook is one entry of :data:`NOTEBOOKS`: its setup step, its check, what it needs.

:func:`pause` is where Run All stops for a learner: the live parts above it (a
dashboard, a jobs panel) stay live to be looked at, and nothing that closes them
or powers the cluster off runs until the learner goes on. An unattended run
(nbval, a test, ``CLUSTERKIT_UNATTENDED=1``) goes straight through.
"""

from __future__ import annotations

import html
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ClusterShell.NodeSet import NodeSet

from .errors import ClusterkitError
from .results import html_block, html_table

if TYPE_CHECKING:
    from .cluster import Cluster

#: Seconds a key login may take before the node counts as refusing it.
LOGIN_TIMEOUT = 10


class NotReady(ClusterkitError):
    """A notebook's earlier steps are not done on some nodes: names the nodes, the step and the notebooks to run."""


@dataclass(frozen=True)
class Who:
    """The person the setup notebooks made: login name and UID (notebook 01's ``me`` and ``uid``)."""

    user: str = "alice"
    uid: int = 1000


# ---------------------------------------------------------------- the steps, and their cheap checks

def _check_users(cluster: Cluster, who: Who) -> tuple[str, dict[str, str | None]]:
    res = cluster.run(f"getent passwd {shlex.quote(who.user)} | cut -d: -f3", timeout=30)
    out = {}
    for n, r in res.items():
        uid = r.stdout.strip()
        out[n] = (_no_answer(r) if not r.reachable else None if uid == str(who.uid) else
                  f"has no user {who.user}" if not uid else f"{who.user} has UID {uid}, not {who.uid}")
    return f"user {who.user} with UID {who.uid}", out


def _check_network(cluster: Cluster, who: Who) -> tuple[str, dict[str, str | None]]:
    res = cluster.run("hostname; ip -o -4 addr show 2>/dev/null", timeout=30)
    out = {}
    for n, r in res.items():
        address = cluster.inventory[n].address
        lines = r.stdout.splitlines()
        if not r.ok:
            out[n] = _no_answer(r)
        elif not lines or lines[0].strip() != n:
            out[n] = f"is called {lines[0].strip() if lines else '?'!r}, not {n}"
        elif address and f"inet {address}/" not in r.stdout:
            out[n] = f"does not have its cluster address {address}"
        else:
            out[n] = None
    return "its name and cluster address", out


def _check_keys(cluster: Cluster, who: Who) -> tuple[str, dict[str, str | None]]:
    from .steps.keys import state_dir
    key = state_dir(cluster) / f"id_ed25519_{who.user}"
    known = state_dir(cluster) / "known_hosts"
    if not key.is_file() or not known.is_file():
        return f"{who.user}'s key logs in", {n: f"this machine has no key of {who.user} for it" for n in cluster.nodes}

    def login(node):
        from .results import NodeResult
        spec = cluster.inventory[node.name]
        argv = ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o",
                "PasswordAuthentication=no", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}",
                "-o", "ConnectTimeout=5", "-p", str(spec.port), f"{who.user}@{spec.host}", "true"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=LOGIN_TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return NodeResult.failure(node.name, "timeout", f"no answer within {LOGIN_TIMEOUT} s")
        return NodeResult.from_exit(node.name, done.returncode, done.stdout, done.stderr, 0.0)

    res = cluster.each(login, command="key login")
    return f"{who.user}'s key logs in", {n: None if r.ok else f"refuses {who.user}'s key" for n, r in res.items()}


def _no_answer(r) -> str:
    return f"does not answer ({r.summary()})"


def _users(cluster: Cluster, who: Who):
    from .steps import Users, rescue_key
    return Users(cluster, name=who.user, uid=who.uid, root_key=rescue_key(cluster))


def _network(cluster: Cluster, who: Who):
    from .steps import Network
    return Network(cluster)


def _keys(cluster: Cluster, who: Who):
    from .steps import Keys
    return Keys(cluster, user=who.user)


def _nfs(cluster: Cluster, who: Who):
    from .steps import Nfs
    return Nfs(cluster, owner=who.user)


def _time(cluster: Cluster, who: Who):
    from .steps import TimeSync
    return TimeSync(cluster)


@dataclass(frozen=True)
class Notebook:
    """What the workbook knows of one notebook: the setup step it builds (None: it sets nothing up), the cheap
    check that the step is done (None: not checked; a later notebook needs it only where it is checked), and
    the earlier notebooks it starts from."""

    step: Callable[[object, Who], object] | None = None
    check: Callable[[object, Who], tuple[str, dict[str, str | None]]] | None = None
    needs: tuple[str, ...] = ()


_BASE = ("01_users", "02_network", "03_keys")
#: One entry per notebook; the setup notebooks (those with a step) in the order their steps build on each other.
NOTEBOOKS: dict[str, Notebook] = {
    "01_users": Notebook(_users, _check_users),
    "02_network": Notebook(_network, _check_network),
    "03_keys": Notebook(_keys, _check_keys, needs=("01_users",)),
    "04_nfs": Notebook(_nfs, needs=_BASE),
    "05_time": Notebook(_time, needs=_BASE),
    "06_operations": Notebook(needs=_BASE),
    "07_parallel": Notebook(needs=_BASE),
    "08_mpi": Notebook(needs=_BASE),
    "09_dashboard": Notebook(needs=_BASE),
    "10_slurm": Notebook(needs=("01_users", "02_network")),
    "11_hpc_carpentry": Notebook(needs=("01_users", "02_network")),
}
#: The setup notebooks, in the order their steps build on each other.
CHAIN = tuple(n for n, nb in NOTEBOOKS.items() if nb.step is not None)
#: What each notebook needs done before it starts (the rest of the chain before it is checked, not re-applied).
NEEDS = {n: nb.needs for n, nb in NOTEBOOKS.items() if nb.needs}


# ---------------------------------------------------------------- what a notebook shows

@dataclass
class StageReport:
    """One step of the chain as :func:`needs` or :func:`reapply` found it."""

    notebook: str
    what: str
    outcome: str


@dataclass
class Report:
    """What was checked or re-applied, step by step: a table in a notebook, lines elsewhere."""

    title: str
    stages: list[StageReport] = field(default_factory=list)
    note: str = ""
    #: The steps' apply results, in chain order (what :meth:`save_inventory` saves).
    applied: list = field(default_factory=list, repr=False)

    def save_inventory(self):
        """Write how the re-applied steps changed the way nodes are reached (a renamed login, a new address) to
        the inventory file, as a step's ``result.save_inventory()`` does; only when called."""
        from .steps.base import ApplyResult
        changes: dict[str, dict[str, tuple]] = {}
        for result in self.applied:
            for node, fields in result.inventory_changes.items():
                changes.setdefault(node, {}).update(fields)
        last = self.applied[-1] if self.applied else None
        return ApplyResult({}, plan=last and last.plan, command="save", inventory=last and last.inventory,
                           inventory_changes=changes).save_inventory()

    def text(self) -> str:
        lines = [self.title] + ([self.note] if self.note else [])
        lines += [f"  {s.notebook}: {s.what}: {s.outcome}" for s in self.stages]
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return f"<Report {self.title}: {len(self.stages)} steps>"

    def _repr_html_(self) -> str:
        rows = [([f"<code>{html.escape(s.notebook)}</code>", html.escape(s.what), html.escape(s.outcome)], True)
                for s in self.stages]
        note = f"<div><i>{html.escape(self.note)}</i></div>" if self.note else ""
        return html_block(f"<b>{html.escape(self.title)}</b>{note}" + html_table(["notebook", "step", "result"], rows))


# ---------------------------------------------------------------- the two calls

def needs(cluster: Cluster, notebook: str, *, user: str = "alice", uid: int = 1000) -> Report:
    """Check that the steps ``notebook`` starts from are done on every node, before it starts anything.

    On the lab and on boards a missing step raises :class:`NotReady` (one line:
    the nodes, what is missing, the notebooks to run). On the local backend the
    missing steps are applied into the sandboxes (they only write files there).
    """
    if notebook not in NEEDS:
        raise ClusterkitError(f"{notebook!r} needs no earlier notebook (or is not one: {', '.join(NEEDS)})",
                              field="notebook")
    who = Who(user, uid)
    wanted = NEEDS[notebook]
    again = [node.platform.why_apply_earlier_steps() for node in cluster]
    if all(again):     # applying them only writes files: nothing to ask first
        from .steps import sandbox
        sandbox.prepare(cluster)
        report = reapply(cluster, *wanted, user=user, uid=uid)
        report.title = f"{notebook} starts where {wanted[-1]} leaves the nodes"
        report.note = f"{cluster.backend} backend: {again[0]}"
        return report
    report = Report(f"{notebook} starts where {wanted[-1]} leaves the nodes")
    for stage in wanted:
        what, found = NOTEBOOKS[stage].check(cluster, who)
        bad = {n: why for n, why in found.items() if why}
        if bad:
            why = next(iter(bad.values()))
            same = [n for n, w in bad.items() if w == why]
            raise NotReady(f"{why}: run {_run(wanted, stage)} first", node=str(NodeSet.fromlist(same)),
                           field=stage)
        report.stages.append(StageReport(stage, what, f"ok on {NodeSet.fromlist(list(found))}"))
    return report


def reapply(cluster: Cluster, *notebooks: str, user: str = "alice", uid: int = 1000) -> Report:
    """Apply the steps of ``notebooks`` again, in chain order; per step "nothing to change" or what changed.

    A step that fails on a node raises :class:`NotReady` naming the step, the
    nodes and why: the steps after it would start from a state they cannot rely on.
    Where a step changed how nodes are reached, the cluster reaches them the new way;
    ``report.save_inventory()`` writes that to the inventory file, when asked.
    """
    who = Who(user, uid)
    unknown = [n for n in notebooks if n not in CHAIN]
    if unknown or not notebooks:
        raise ClusterkitError(f"not setup notebooks: {unknown or 'none given'} (choose from {', '.join(CHAIN)})",
                              field="notebooks")
    report = Report("re-applied " + ", ".join(n for n in CHAIN if n in notebooks))
    for stage in [n for n in CHAIN if n in notebooks]:
        step = NOTEBOOKS[stage].step(cluster, who)
        plan = step.plan()
        if plan.empty:
            report.stages.append(StageReport(stage, step.title, "nothing to change"))
            continue
        result = step.apply(plan, progress=False)
        report.applied.append(result)
        by_count: dict[str, list[str]] = {}
        for n, p in plan.nodes.items():
            if not p.empty:
                by_count.setdefault(_changes(p), []).append(n)
        counts = "; ".join(f"{NodeSet.fromlist(nodes)}: {what}" for what, nodes in by_count.items())
        if result.ok:
            report.stages.append(StageReport(stage, step.title, f"changed {counts}"))
            continue
        failed = result.failed
        first = next(iter(failed.values()))
        raise NotReady(f"re-applying it failed: {first.error or first.summary()}", node=str(failed.nodes),
                       field=stage)
    return report


def _changes(nplan) -> str:
    files, commands = len(nplan.files), len(nplan.commands)
    parts = ([f"{files} file{'s' * (files != 1)}"] if files else []) + \
        ([f"{commands} command{'s' * (commands != 1)}"] if commands else [])
    return ", ".join(parts)


def _run(wanted: tuple[str, ...], first: str) -> str:
    todo = list(wanted[wanted.index(first):])
    return todo[0] if len(todo) == 1 else ", ".join(todo[:-1]) + " and " + todo[-1]


# ---------------------------------------------------------------- where Run All waits for the learner

#: ``1`` runs every notebook straight through (nothing waits for a learner); ``0`` waits even under pytest.
UNATTENDED = "CLUSTERKIT_UNATTENDED"
_paused: set[str] = set()


class Paused(ClusterkitError):
    """Run All stops here on purpose (see :func:`pause`): shown as its message alone, the next cells left to run."""

    def _render_traceback_(self) -> list[str]:
        return self.message.splitlines()


def attended() -> bool:
    """Whether a learner is at this notebook, so Run All should stop before what ends the live parts.

    ``$CLUSTERKIT_UNATTENDED`` decides when set (``1``: nobody is there, ``0``: somebody is).
    Otherwise a run under pytest (nbval, the workbook's tests: pytest sets ``PYTEST_CURRENT_TEST``
    in the environment the kernel inherits) and code outside a Jupyter kernel (a script) are
    unattended; a Jupyter kernel is attended.
    """
    value = os.environ.get(UNATTENDED, "").strip().lower()
    if value:
        return value in ("0", "no", "false")
    if "PYTEST_CURRENT_TEST" in os.environ:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def pause(what: str, *, key: str | None = None) -> None:
    """Stop Run All here while a learner is at the notebook; go on when the cell is run again.

    ``what`` says what is live above and what to do with it. The first run of this
    pause in a kernel raises :class:`Paused` (one line, no traceback: a failed cell
    is the only way a notebook stops Run All), so the cells below it, which close the
    live parts or power the cluster off, wait for the learner. Running the cell again
    (or *Run Selected Cell and All Below* from it) goes on. Unattended runs
    (:func:`attended`) never stop; they print one line saying so.
    """
    key = key or what
    if not attended():
        print("An unattended run (tests, CI): not stopping here.")
        return
    if key in _paused:
        print("Going on.")
        return
    _paused.add(key)
    raise Paused(f"Run All stops here on purpose. {what} "
                 "To go on, run this cell again, or Run ▸ Run Selected Cell and All Below.")


__all__ = ["needs", "reapply", "pause", "attended", "NotReady", "Paused", "Report", "StageReport", "NOTEBOOKS",
           "Notebook", "CHAIN", "NEEDS", "UNATTENDED"]
