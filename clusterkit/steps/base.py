"""The protocol every setup step follows: plan, then apply exactly the plan, then verify.

A step is built in one line from a cluster and its arguments. ``plan()``
validates the arguments, reads every node, checks the nodes against each
other, and only then works out, per node, the actions (:mod:`.actions`): file
changes (a unified diff each) and the commands that would run. It changes
nothing. ``apply()`` hands each node's actions to the one executor
(:func:`.actions.execute`), then re-plans to verify that nothing is left to
change, so a second ``apply()`` is a no-op.

On the local backend each action simulates itself: files are rendered into
each node's sandbox and the privileged commands are reported as "would run",
never as run.

A step subclass provides :meth:`Step.validate` (arguments only),
:meth:`Step.read` (one node's state, read through ``reader``),
:meth:`Step.check` (every node's state together) and :meth:`Step.node_plan`.
Optional: :meth:`Step.gate` (which nodes may go on to the next phase),
:meth:`Step.settle` (after the last phase) and :meth:`Step.verify_node` (a live
check after applying). Where apply changed how a node is reached (a renamed
login, a new address), the cluster reconnects it; the result lists those
inventory changes, and :meth:`ApplyResult.save_inventory` writes them to the
inventory file.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from ..backends.base import BACKUP_SUFFIX, Node
from ..errors import ClusterkitError
from ..results import ClusterResult, NodeResult
from .actions import Action, Command, FileChange, NodeOutcome, Run, execute, restore
from .detached import DetachedScript
from .errors import ReadError, StepError
from .render import apply_html, plan_html, plan_text
from .progress import Progress

if TYPE_CHECKING:
    from ..cluster import Cluster


@dataclass
class NodePlan:
    """What a step would do on one node: ordered actions and notes for the reader."""

    node: str
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def steps(self) -> list[Action]:
        """The actions with a detached script's commands listed one by one (what views and counts show)."""
        out: list[Action] = []
        for a in self.actions:
            out += list(a.commands) if isinstance(a, DetachedScript) else [a]
        return out

    @property
    def files(self) -> list[FileChange]:
        return [a for a in self.actions if isinstance(a, FileChange)]

    @property
    def commands(self) -> list[Command]:
        return [a for a in self.steps() if isinstance(a, Command)]

    @property
    def empty(self) -> bool:
        return not self.actions

    def file(self, path: str) -> FileChange | None:
        return next((f for f in self.files if f.path == path), None)


@dataclass
class Plan:
    """Per node, what a step would change. ``observed`` holds a digest of every file read to make it."""

    title: str
    backend: str
    nodes: dict[str, NodePlan]
    observed: dict[str, dict[str, str | None]]
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return all(p.empty for p in self.nodes.values())

    def __getitem__(self, node: str) -> NodePlan:
        return self.nodes[node]

    def text(self) -> str:
        return plan_text(self)

    __str__ = text

    def __repr__(self) -> str:
        changing = [n for n, p in self.nodes.items() if not p.empty]
        what = "nothing to change" if not changing else f"changes on {len(changing)} of {len(self.nodes)} nodes"
        return f"<Plan {self.title}: {what}>"

    def _repr_html_(self) -> str:
        return plan_html(self)


#: How a node is reached that changed with an apply (see :attr:`ApplyResult.inventory_changes`).
REACH_FIELDS = ("host", "user", "port")


@dataclass(frozen=True)
class InventorySave:
    """What :meth:`ApplyResult.save_inventory` did: the file it rewrote (None: none) and why, in one line."""

    path: str | None
    line: str

    def __repr__(self) -> str:
        return self.line

    __str__ = __repr__


class ApplyResult(ClusterResult):
    """The per-node outcome of ``apply()``: a :class:`ClusterResult` whose rows carry a :class:`NodeOutcome`.

    ``inventory_changes``: per node, the fields of how it is reached that apply
    changed (``{"pc1": {"user": ("pi", "alice")}}``); the cluster already uses
    them, and :meth:`save_inventory` writes them to the inventory file.
    """

    def __init__(self, results: dict[str, NodeResult], *, plan: Plan, command: str, inventory=None,
                 inventory_changes: dict[str, dict[str, tuple]] | None = None):
        super().__init__(results, command=command)
        self.plan = plan
        self.inventory = inventory
        self.inventory_changes = inventory_changes or {}

    def outcome(self, node: str) -> NodeOutcome:
        return self[node].value

    @property
    def would_run(self) -> dict[str, list[str]]:
        return {n: r.value.would_run for n, r in self.items() if r.value and r.value.would_run}

    def save_inventory(self) -> InventorySave:
        """Write the inventory changes to the inventory file (atomically, the old file kept as a backup),
        so a later ``clusterkit.connect()`` reaches the nodes the new way too. The packaged default is never rewritten."""
        from ClusterShell.NodeSet import NodeSet
        from .reach import save_inventory
        if not self.inventory_changes:
            return InventorySave(None, "nothing to save: every node is reached as before")
        nodes = NodeSet.fromlist(list(self.inventory_changes))
        path = save_inventory(self.inventory)
        if path is None:
            return InventorySave(None, f"not saved: {self.inventory.source} is not a YAML inventory of yours to "
                                       f"rewrite; this cluster reaches {nodes} the new way until it closes")
        return InventorySave(str(path), f"saved how {nodes} are reached now to {path} "
                                        f"(the old file kept as {path.name}{BACKUP_SUFFIX})")

    def _repr_html_(self) -> str:
        return apply_html(self)


#: Called after every file written by apply (node, path); tests use it to stop an apply half-way.
WriteHook = Callable[[str, str], None]


class Step:
    """Base of every setup step. Subclasses set ``title`` and implement the hooks below."""

    title = "step"
    #: Phases run in order on every node; :meth:`gate` decides which nodes go on to the next.
    phases = 1

    def __init__(self, cluster: Cluster, *, nodes=None):
        self.cluster = cluster
        self.names = cluster.inventory.select(nodes)
        self.on_write: WriteHook | None = None
        #: True while apply re-plans to verify: a check that guards only the start of a change (another
        #: login in the way of a rename) must not fail the nodes that are done.
        self.verifying = False

    # ------------------------------------------------------------ hooks
    def validate(self) -> None:
        """Check the arguments alone; raise :class:`StepError` naming the field (and the nodes)."""

    def read(self, node: Node, reader: "Reader") -> Any:
        """Read one node's state (files through ``reader`` so apply can tell if they changed)."""
        return None

    def check(self, states: dict[str, Any]) -> None:
        """Check every node's state together (conflicts between nodes); raise :class:`StepError`."""

    def node_plan(self, node: Node, state: Any, states: dict[str, Any]) -> NodePlan:
        """The actions for one node."""
        raise NotImplementedError

    def gate(self, phase: int, plan: Plan, nodes: list[str], outcomes: dict[str, NodeOutcome]) -> dict[str, str | None]:
        """Before ``phase`` (1, 2, …): per node, None to go on or the reason it stops here."""
        return {n: None for n in nodes}

    def after(self, first: str, what: str, nodes: list[str], outcomes: dict[str, "NodeOutcome"]) -> dict[str, str | None]:
        """A :meth:`gate` where the other nodes go on only if ``first`` (a server: ``what``) went through."""
        down = outcomes[first].problem
        return {n: (f"{what} {first} is not ready: {down}" if down and n != first else None) for n in nodes}

    @staticmethod
    def must(node: Node, command: str, *, field: str, failing: str):
        """Run a live check on a node; raise :class:`StepError` (``failing``: what it means) when it fails."""
        r = node.run(command, timeout=30)
        if not r.ok:
            raise StepError(f"{failing}: {r.summary()}", node=node.name, field=field)
        return r

    def settle(self, plan: Plan, outcomes: dict[str, NodeOutcome]) -> None:
        """After the last phase, before verification (network: the new addresses must answer).

        A node to be reached another way from now on gets that spec in its outcome's ``reach``.
        """

    def verify_node(self, node: Node) -> str | None:
        """A live check after apply; returns a line to show, raises :class:`StepError` on failure."""
        return None

    # ------------------------------------------------------------ plan
    @property
    def where(self) -> str:
        """The nodes this step works on, folded (``pc[0-3]``): the node an argument error names."""
        from ClusterShell.NodeSet import NodeSet
        return str(NodeSet.fromlist(self.names))

    def plan(self) -> Plan:
        """Validate, read every node, check across nodes, then diff. Changes nothing."""
        self.validate()
        readers = {n: Reader(self.cluster[n]) for n in self.names}
        result = self.cluster.each(lambda node: self.read(node, readers[node.name]), nodes=self.names,
                                   command=f"read ({self.title})")
        if not result.ok:
            raise ReadError(result)
        states = {n: r.value for n, r in result.items()}
        self.check(states)
        nodes = {n: self.node_plan(self.cluster[n], states[n], states) for n in self.names}
        return Plan(title=self.title, backend=self.cluster.backend, nodes=nodes,
                    observed={n: readers[n].seen for n in self.names}, notes=self.plan_notes())

    def plan_notes(self) -> list[str]:
        notes = dict.fromkeys(self.cluster[n].platform.note for n in self.names)
        return [note for note in notes if note]

    # ------------------------------------------------------------ apply
    def apply(self, plan: Plan | None = None, *, progress: bool = True) -> ApplyResult:
        """Make exactly the planned changes, node by node, then verify every node.

        With no plan, plans first. Refuses (before touching anything) when a node's
        files changed since the plan was made.
        """
        plan = plan or self.plan()
        self._check_fresh(plan)
        bar = Progress(self.title, {n: sum(a.ticks for a in plan[n].actions) for n in self.names}, enabled=progress)
        outcomes = {n: NodeOutcome() for n in self.names}
        going = [n for n in self.names if not plan[n].empty]
        for phase in range(self.phases):
            if phase:
                verdict = self.gate(phase, plan, going, outcomes)
                for n, reason in verdict.items():
                    if reason:
                        outcomes[n].skipped += [a.describe() for a in plan[n].steps() if a.phase >= phase]
                        outcomes[n].problem = reason
                going = [n for n in going if not verdict.get(n)]

            def one(node, phase=phase):
                run = Run(node, self.cluster, outcomes[node.name], tick=partial(bar.tick, node.name),
                          on_write=self.on_write)
                execute([a for a in plan[node.name].actions if a.phase == phase], run)
            self.cluster.each(one, nodes=going, command=f"apply {self.title}")
            going = [n for n in going if outcomes[n].problem is None]
        self.settle(plan, outcomes)
        changes = self._reconnect(outcomes)
        self._verify(outcomes)
        bar.close()
        rows = {}
        for n in self.names:
            o = outcomes[n]
            status = "failed" if o.problem else "ok"
            rows[n] = NodeResult(node=n, status=status, exit_code=0 if status == "ok" else 1,
                                 stdout="\n".join(o.lines()) + "\n", value=o, command=f"apply {self.title}",
                                 error=o.problem)
        return ApplyResult(rows, plan=plan, command=f"apply {self.title}", inventory=self.cluster.inventory,
                           inventory_changes=changes)

    def _check_fresh(self, plan: Plan) -> None:
        if plan.title != self.title or set(plan.nodes) != set(self.names):
            raise StepError("this plan was made by another step or for other nodes", field="plan")
        for n in self.names:
            node = self.cluster[n]
            for path, digest in plan.observed[n].items():
                if _digest(node.read_file(path, privileged=True)) != digest:
                    raise StepError(f"{path} changed since the plan was made; run plan() again",
                                    node=n, field="plan")

    def _reconnect(self, outcomes: dict[str, NodeOutcome]) -> dict[str, dict[str, tuple]]:
        """The cluster reaches the nodes whose outcome says so the new way; what changed, per node."""
        from .reach import node_at
        moved = {n: o.reach for n, o in outcomes.items() if o.reach is not None}
        changes = {}
        for n, spec in moved.items():
            old = self.cluster.inventory[n]
            changes[n] = {f: (getattr(old, f), getattr(spec, f)) for f in REACH_FIELDS
                          if getattr(old, f) != getattr(spec, f)}
        if moved:
            self.cluster.reconnect([node_at(self.cluster, spec) for spec in moved.values()])
        return {n: c for n, c in changes.items() if c}

    def restore(self, node: Node, plan: NodePlan) -> None:
        """Put every file of a node's plan back to its old content (a rollback)."""
        restore(node, plan.files, timeout=self.cluster.command_timeout)

    def _verify(self, outcomes: dict[str, NodeOutcome]) -> None:
        done = [n for n in self.names if outcomes[n].problem is None]
        if not done:
            return
        try:
            self.verifying = True
            again = self.plan()
        except ClusterkitError as e:
            for n in done:
                outcomes[n].problem = f"verification could not re-read the nodes: {e}"
            return
        finally:
            self.verifying = False
        for n in done:
            left = again[n]
            if left.actions:
                outcomes[n].problem = "still to change after apply: " + ", ".join(a.describe() for a in left.steps())
                continue
            try:
                extra = self.cluster[n].platform.live(partial(self.verify_node, self.cluster[n]), otherwise=None)
            except ClusterkitError as e:
                outcomes[n].problem = f"check failed: {e.message}"
                continue
            outcomes[n].verified = extra or "re-read: nothing left to change"


class Reader:
    """Reads a node's files for a plan and remembers a digest of each, so apply can tell if they changed."""

    def __init__(self, node: Node):
        self.node = node
        self.seen: dict[str, str | None] = {}

    def __call__(self, path: str) -> bytes | None:
        data = self.node.read_file(path, privileged=True)
        self.seen[path] = _digest(data)
        return data

    def text(self, path: str) -> str | None:
        data = self(path)
        return None if data is None else data.decode("utf-8", "replace")

    def listdir(self, path: str) -> list[str]:
        """Names in a directory on the node (sorted); [] when it does not exist."""
        return self.node.list_dir(path)


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def node_home(user: str) -> str:
    """A user's home directory on a node."""
    return "/root" if user == "root" else posixpath.join("/home", user)


__all__ = ["Step", "Plan", "NodePlan", "FileChange", "Command", "ApplyResult", "NodeOutcome", "StepError",
           "Reader", "InventorySave", "node_home"]
