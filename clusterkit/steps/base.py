"""The protocol every setup step follows: plan, then apply exactly the plan, then verify.

A step is built in one line from a cluster and its arguments. ``plan()``
validates the arguments, reads every node, checks the nodes against each
other, and only then works out, per node, the file changes (a unified diff
each) and the commands that would run. It changes nothing. ``apply()`` makes
exactly the planned changes (files written atomically with backups through
:meth:`Node.write_file`, commands through :meth:`Node.sudo`), then re-plans
to verify that nothing is left to change, so a second ``apply()`` is a no-op.

On the local backend the files are rendered into each node's sandbox and the
privileged commands come back ``refused``: they are reported as "would run",
never as run.

A step subclass provides :meth:`Step.validate` (arguments only),
:meth:`Step.read` (one node's state, read through ``reader``),
:meth:`Step.check` (every node's state together) and :meth:`Step.node_plan`.
Optional: :meth:`Step.gate` (which nodes may go on to the next phase) and
:meth:`Step.verify_node` (a live check after applying).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable

from ..backends.base import BACKUP_SUFFIX, Node
from ..errors import ClusterkitError
from ..results import ClusterResult, NodeResult
from .render import apply_html, plan_html, plan_text
from .progress import Progress


class StepError(ClusterkitError):
    """A step refused its input, or found the nodes in a state it cannot work from.

    Raised before any node is touched; ``node`` and ``field`` say where.
    """


@dataclass(frozen=True)
class FileChange:
    """One file on one node: its content now (``old``) and after the step (``new``).

    ``new=None`` removes the file (it is kept as ``path.clusterkit.bak``).
    ``secret`` hides the content from every view (a private key).
    ``by_commands``: on a node with root the step's commands make this change
    (``usermod`` edits ``/etc/passwd``) and the file shows what they will do;
    on the local backend the rendered file is written to the sandbox instead.
    """

    path: str
    old: bytes | None
    new: bytes | None
    mode: int | None = None
    why: str = ""
    secret: bool = False
    by_commands: bool = False
    phase: int = 0

    @property
    def kind(self) -> str:
        return "new" if self.old is None else ("remove" if self.new is None else "change")

    def diff(self) -> str:
        """A unified diff from the old to the new content (secrets never shown)."""
        if self.secret:
            return f"{self.kind} {self.path} (secret content, not shown)\n"
        if _binary(self.old) or _binary(self.new):
            size = lambda d: "absent" if d is None else f"{len(d)} bytes"  # noqa: E731
            return f"{self.kind} {self.path} (binary: {size(self.old)} -> {size(self.new)})\n"
        old = _lines(self.old)
        new = _lines(self.new)
        return "".join(difflib.unified_diff(old, new, fromfile=("/dev/null" if self.old is None else "a" + self.path),
                                            tofile=("/dev/null" if self.new is None else "b" + self.path)))


@dataclass(frozen=True)
class Command:
    """A privileged command the step runs on a node (``sudo``), in order with the file changes.

    ``stdin`` feeds the command (a password hash); it is never shown. A failing
    command with ``check`` stops its node there and restores the files the step
    wrote on that node.
    """

    command: str
    why: str = ""
    stdin: str | None = field(default=None, repr=False)
    check: bool = True
    phase: int = 0
    by_file: bool = False  #: its effect is already one of the plan's files (shown, not needed in a sandbox)


Action = FileChange | Command


@dataclass
class NodePlan:
    """What a step would do on one node: ordered actions and notes for the reader."""

    node: str
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[FileChange]:
        return [a for a in self.actions if isinstance(a, FileChange)]

    @property
    def commands(self) -> list[Command]:
        return [a for a in self.actions if isinstance(a, Command)]

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


@dataclass
class NodeOutcome:
    """What apply did on one node, in words a learner can check."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    would_run: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problem: str | None = None
    rolled_back: bool = False
    verified: str | None = None

    def lines(self) -> list[str]:
        out = [f"wrote {p}" for p in self.written] + [f"removed {p} (kept as {p}{BACKUP_SUFFIX})" for p in self.removed]
        out += [f"ran: {c}" for c in self.ran]
        out += [f"would run (not run: this backend has no root): {c}" for c in self.would_run]
        out += [f"skipped: {s}" for s in self.skipped]
        if self.problem:
            out.append(f"problem: {self.problem}" + ("; its files were restored" if self.rolled_back else ""))
        if self.verified:
            out.append(f"verified: {self.verified}")
        return out


class ApplyResult(ClusterResult):
    """The per-node outcome of ``apply()``: a :class:`ClusterResult` whose rows carry a :class:`NodeOutcome`."""

    def __init__(self, results: dict[str, NodeResult], *, plan: Plan, command: str):
        super().__init__(results, command=command)
        self.plan = plan

    def outcome(self, node: str) -> NodeOutcome:
        return self[node].value

    @property
    def would_run(self) -> dict[str, list[str]]:
        return {n: r.value.would_run for n, r in self.items() if r.value and r.value.would_run}

    def _repr_html_(self) -> str:
        return apply_html(self)


#: Called after every file written by apply (node, path); tests use it to stop an apply half-way.
WriteHook = Callable[[str, str], None]


class Step:
    """Base of every setup step. Subclasses set ``title`` and implement the hooks below."""

    title = "step"
    #: Phases run in order on every node; :meth:`gate` decides which nodes go on to the next.
    phases = 1

    def __init__(self, cluster, *, nodes=None):
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

    def gate(self, phase: int, plan: Plan, nodes: list[str], outcomes: dict[str, "NodeOutcome"]) -> dict[str, str | None]:
        """Before ``phase`` (1, 2, …): per node, None to go on or the reason it stops here."""
        return {n: None for n in nodes}

    def settle(self, plan: Plan, outcomes: dict[str, "NodeOutcome"]) -> None:
        """After the last phase, before verification (network: the new addresses must answer)."""

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
            bad = next(iter(result.failed.values()))
            raise StepError(f"cannot read this node: {bad.summary()}", node=bad.node, field="read")
        states = {n: r.value for n, r in result.items()}
        self.check(states)
        nodes = {n: self.node_plan(self.cluster[n], states[n], states) for n in self.names}
        return Plan(title=self.title, backend=self.cluster.backend, nodes=nodes,
                    observed={n: readers[n].seen for n in self.names}, notes=self.plan_notes())

    def plan_notes(self) -> list[str]:
        if self.cluster.backend == "local":
            return ["local backend: apply writes these files into each node's sandbox and lists the "
                    "privileged commands a real node would run; it runs none of them"]
        return []

    # ------------------------------------------------------------ apply
    def apply(self, plan: Plan | None = None, *, progress: bool = True) -> ApplyResult:
        """Make exactly the planned changes, node by node, then verify every node.

        With no plan, plans first. Refuses (before touching anything) when a node's
        files changed since the plan was made.
        """
        plan = plan or self.plan()
        self._check_fresh(plan)
        bar = Progress(self.title, {n: len(plan[n].actions) for n in self.names}, enabled=progress)
        outcomes = {n: NodeOutcome() for n in self.names}
        going = [n for n in self.names if not plan[n].empty]
        for phase in range(self.phases):
            if phase:
                verdict = self.gate(phase, plan, going, outcomes)
                for n, reason in verdict.items():
                    if reason:
                        outcomes[n].skipped += [_describe(a) for a in plan[n].actions if a.phase >= phase]
                        outcomes[n].problem = reason
                going = [n for n in going if not verdict.get(n)]
            self.cluster.each(lambda node: self._apply_actions(node, plan[node.name], phase, outcomes[node.name], bar),
                              nodes=going, command=f"apply {self.title}")
            going = [n for n in going if outcomes[n].problem is None]
        self.settle(plan, outcomes)
        self._verify(outcomes)
        bar.close()
        rows = {}
        for n in self.names:
            o = outcomes[n]
            status = "failed" if o.problem else "ok"
            rows[n] = NodeResult(node=n, status=status, exit_code=0 if status == "ok" else 1,
                                 stdout="\n".join(o.lines()) + "\n", value=o, command=f"apply {self.title}",
                                 error=o.problem)
        return ApplyResult(rows, plan=plan, command=f"apply {self.title}")

    def _check_fresh(self, plan: Plan) -> None:
        if plan.title != self.title or set(plan.nodes) != set(self.names):
            raise StepError("this plan was made by another step or for other nodes", field="plan")
        for n in self.names:
            node = self.cluster[n]
            for path, digest in plan.observed[n].items():
                if _digest(node.read_file(path, privileged=True)) != digest:
                    raise StepError(f"{path} changed since the plan was made; run plan() again",
                                    node=n, field="plan")

    def _apply_actions(self, node: Node, nplan: NodePlan, phase: int, out: NodeOutcome, bar: Progress) -> None:
        try:
            self._run_actions(node, nplan, phase, out, bar)
        except Exception as e:  # each file is old or new; say where this node stopped
            out.problem = f"stopped after {len(out.written) + len(out.removed)} files: {e}"

    def _run_actions(self, node: Node, nplan: NodePlan, phase: int, out: NodeOutcome, bar: Progress) -> None:
        written: list[FileChange] = []
        for action in [a for a in nplan.actions if a.phase == phase]:
            if isinstance(action, FileChange):
                if action.by_commands and node.privileged:
                    bar.tick(node.name, f"{action.path}: made by the commands below")
                    continue
                self._write(node, action)
                written.append(action)
                (out.removed if action.new is None else out.written).append(action.path)
                bar.tick(node.name, action.path)
                if self.on_write:
                    self.on_write(node.name, action.path)
                continue
            if action.by_file and not node.privileged:
                out.would_run.append(action.command)
                bar.tick(node.name, "would run: " + action.command)
                continue
            r = node.sudo(action.command, stdin=action.stdin, timeout=self.cluster.command_timeout)
            if r.status == "refused":
                out.would_run.append(action.command)
            elif r.ok:
                out.ran.append(action.command)
            elif action.check:
                out.problem = f"{action.command!r} failed: {r.summary()}"
                self._restore(node, written)
                out.rolled_back = bool(written)
                bar.tick(node.name, "failed")
                return
            else:
                out.ran.append(f"{action.command}  ({r.summary()}, allowed)")
            bar.tick(node.name, action.command)

    def _write(self, node: Node, change: FileChange) -> None:
        if change.new is not None:
            node.write_file(change.path, change.new, mode=change.mode, privileged=True)
            return
        bak = change.path + BACKUP_SUFFIX
        if node.privileged:
            r = node.sudo(f"mv -f -- {_q(change.path)} {_q(bak)}", timeout=self.cluster.command_timeout)
            if not r.ok:
                raise StepError(f"cannot remove: {r.summary()}", node=node.name, field=change.path)
        else:
            os.replace(node.path(change.path), node.path(bak))

    def _restore(self, node: Node, written: list[FileChange]) -> None:
        for change in reversed(written):
            if change.old is not None:
                node.write_file(change.path, change.old, mode=change.mode, privileged=True, backup=False)
            elif change.new is not None:
                self._write(node, FileChange(change.path, change.new, None))

    def restore(self, node: Node, plan: NodePlan) -> None:
        """Put every file of a node's plan back to its old content (a rollback)."""
        self._restore(node, [f for f in plan.files if not (f.by_commands and node.privileged)])

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
                outcomes[n].problem = "still to change after apply: " + ", ".join(_describe(a) for a in left.actions)
                continue
            try:
                extra = self.verify_node(self.cluster[n])
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
        r = self.node.run(f"ls -1A -- {_q(self.node_path(path))} 2>/dev/null", timeout=30) \
            if not self.node.privileged else self.node.sudo(f"ls -1A -- {_q(path)} 2>/dev/null", timeout=30)
        return sorted(ln for ln in r.stdout.splitlines() if ln) if r.ok else []

    def node_path(self, path: str) -> str:
        return str(self.node.path(path)) if hasattr(self.node, "path") and not self.node.privileged else path


def _describe(action: Action) -> str:
    return action.path if isinstance(action, FileChange) else action.command


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _binary(data: bytes | None) -> bool:
    if data is None:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return b"\0" in data


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    text = data.decode("utf-8", "replace")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _q(text: str) -> str:
    return shlex.quote(text)


def node_home(user: str) -> str:
    """A user's home directory on a node."""
    return "/root" if user == "root" else posixpath.join("/home", user)


__all__ = ["Step", "Plan", "NodePlan", "FileChange", "Command", "ApplyResult", "NodeOutcome", "StepError",
           "Reader", "node_home"]
