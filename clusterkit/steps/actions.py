"""What a step does on a node, as small objects, and the one executor that runs them.

Each action describes itself (a line for plans and outcomes), applies itself
on a node that acts as root, and simulates itself on a node that is a sandbox
directory (the local backend): a file is written there, a command is listed as
"would run". :func:`execute` runs one phase of a node's actions in order: a
progress tick after each, and when a checked command fails, the files written
in that phase are put back and the node stops there.

- :class:`FileChange`: write a file atomically with a backup, or remove it (kept as a backup);
- :class:`Rendered`: a file that the plan's commands make on a real node (shown, written only to a sandbox);
- :class:`Command`: run a command as root;
- :class:`Link`: a symbolic link that a command makes (in a sandbox, the link itself);
- :class:`~.detached.DetachedScript`: commands run by a detached root process once a login has logged out,
  its log read back through whichever login works (the rename of notebook 01);
- :class:`HostBind`: a directory of one node bound into another by the backend, from the host.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable

from ..backends.base import BACKUP_SUFFIX, Node
from ..backends.platform import Bind
from ..errors import ClusterkitError
from ..inventory import NodeSpec


class ActionFailed(Exception):
    """A checked action failed: its node stops, and the files it wrote in this phase are put back."""


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
    #: The way to reach this node from now on, when an action changed it (a renamed login, a new address).
    reach: NodeSpec | None = field(default=None, repr=False)

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


@dataclass
class Run:
    """One node's phase while the executor runs it: where actions report, tick and find the cluster."""

    node: Node
    cluster: Any
    out: NodeOutcome
    tick: Callable[[str], None] = lambda what: None
    on_write: Callable[[str, str], None] | None = None
    written: list["FileChange"] = field(default_factory=list)   #: files written in this phase (for a rollback)

    @property
    def timeout(self) -> float | None:
        return self.cluster.command_timeout

    def wrote(self, change: "FileChange") -> None:
        self.written.append(change)
        (self.out.removed if change.new is None else self.out.written).append(change.path)
        self.tick(change.path)
        if self.on_write:
            self.on_write(self.node.name, change.path)


@dataclass(frozen=True)
class Action:
    """Base of every action: ``why`` is shown beside it, ``phase`` says when it runs."""

    @property
    def ticks(self) -> int:
        """How many steps of the progress bar it counts for."""
        return 1

    def describe(self) -> str:
        raise NotImplementedError

    def apply(self, run: Run) -> None:
        """On a node that acts as root."""
        raise NotImplementedError

    def simulate(self, run: Run) -> None:
        """On a node that is a sandbox directory (no root)."""
        raise NotImplementedError

    def undo(self, node: Node, *, timeout: float | None = None) -> None:
        """Put back what :meth:`apply` changed (files only; a command is not undone)."""

    def unsimulate(self, node: Node, *, timeout: float | None = None) -> None:
        """Put back what :meth:`simulate` changed in the sandbox."""
        self.undo(node, timeout=timeout)


@dataclass(frozen=True)
class FileChange(Action):
    """One file on one node: its content now (``old``) and after the step (``new``).

    ``new=None`` removes the file (it is kept as ``path.clusterkit.bak``).
    ``secret`` hides the content from every view (a private key).
    """

    path: str
    old: bytes | None
    new: bytes | None
    mode: int | None = None
    why: str = ""
    secret: bool = False
    phase: int = 0

    @property
    def kind(self) -> str:
        return "new" if self.old is None else ("remove" if self.new is None else "change")

    def describe(self) -> str:
        return self.path

    def diff(self) -> str:
        """A unified diff from the old to the new content (secrets never shown)."""
        if self.secret:
            return f"{self.kind} {self.path} (secret content, not shown)\n"
        if _binary(self.old) or _binary(self.new):
            size = lambda d: "absent" if d is None else f"{len(d)} bytes"  # noqa: E731
            return f"{self.kind} {self.path} (binary: {size(self.old)} -> {size(self.new)})\n"
        return "".join(difflib.unified_diff(_lines(self.old), _lines(self.new),
                                            fromfile=("/dev/null" if self.old is None else "a" + self.path),
                                            tofile=("/dev/null" if self.new is None else "b" + self.path)))

    def apply(self, run: Run) -> None:
        self.check(run.node)
        if self.new is not None:
            run.node.write_file(self.path, self.new, mode=self.mode, privileged=True)
        else:
            _remove(run.node, self.path, timeout=run.timeout)
        run.wrote(self)

    def simulate(self, run: Run) -> None:
        if self.new is not None:
            run.node.write_file(self.path, self.new, mode=self.mode, privileged=True)
        else:
            os.replace(run.node.local_path(self.path), run.node.local_path(self.path + BACKUP_SUFFIX))
        run.wrote(self)

    def check(self, node: Node) -> None:
        """A last check on the node right before the file is replaced (raise to stop); none by default."""

    def undo(self, node: Node, *, timeout: float | None = None) -> None:
        if self.old is not None:
            node.write_file(self.path, self.old, mode=self.mode, privileged=True, backup=False)
        elif self.new is not None:
            _remove(node, self.path, timeout=timeout)

    def unsimulate(self, node: Node, *, timeout: float | None = None) -> None:
        if self.old is not None:
            node.write_file(self.path, self.old, mode=self.mode, privileged=True, backup=False)
        elif self.new is not None:
            os.replace(node.local_path(self.path), node.local_path(self.path + BACKUP_SUFFIX))


@dataclass(frozen=True)
class Rendered(FileChange):
    """A file that the plan's commands make on a real node (``usermod`` edits ``/etc/passwd``).

    The plan shows what they will make of it; on a sandbox it is written, as the commands would.
    """

    def apply(self, run: Run) -> None:
        run.tick(f"{self.path}: made by the commands below")

    def undo(self, node: Node, *, timeout: float | None = None) -> None:
        """Nothing: the commands made it, and a command is not undone."""


#: A command longer than this, or of several lines, is named by what it does in progress bars and tables,
#: with the script itself folded under that name (nfs-ganesha's start is a loop of 400 characters).
SHORT_COMMAND = 80


def is_long(command: str) -> bool:
    """Whether a command is a script rather than a line a learner reads at a glance."""
    return "\n" in command or len(command) > SHORT_COMMAND


def first_line(command: str) -> str:
    """A long command's first line, cut to fit a progress bar, with an ellipsis."""
    return command.splitlines()[0][:SHORT_COMMAND - 1] + "…"


@dataclass(frozen=True)
class Command(Action):
    """A privileged command the step runs on a node (``sudo``), in order with the file changes.

    ``stdin`` feeds the command (a password hash); it is never shown. A failing
    command with ``check`` stops its node there and restores the files the step
    wrote on that node in this phase.
    """

    command: str
    why: str = ""
    stdin: str | None = field(default=None, repr=False)
    check: bool = True
    phase: int = 0

    def describe(self) -> str:
        return self.command

    @property
    def short(self) -> str:
        """How a progress bar names it: the command itself when it is short, else what it does (``why``)."""
        if not is_long(self.command):
            return self.command
        return self.why or first_line(self.command)

    def apply(self, run: Run) -> None:
        r = run.node.sudo(self.command, stdin=self.stdin, timeout=run.timeout)
        if r.status == "refused":
            run.out.would_run.append(self.command)
        elif r.ok:
            run.out.ran.append(self.command)
        elif self.check:
            raise ActionFailed(f"{self.command!r} failed: {r.summary()}")
        else:
            run.out.ran.append(f"{self.command}  ({r.summary()}, allowed)")
        run.tick(self.short)

    def simulate(self, run: Run) -> None:
        run.out.would_run.append(self.command)
        run.tick("would run: " + self.short)


@dataclass(frozen=True)
class Link(Command):
    """A symbolic link ``link`` -> ``target`` that ``command`` makes on a real node (``systemctl set-default``).

    On a sandbox the link itself is made, atomically, as the command would make it.
    """

    link: str = ""
    target: str = ""

    def simulate(self, run: Run) -> None:
        head, name = posixpath.split(self.link)   # the link itself is not followed (it leads outside the sandbox)
        path = run.node.local_path(head) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.clusterkit-tmp")
        tmp.unlink(missing_ok=True)
        os.symlink(self.target, tmp)
        os.replace(tmp, path)
        run.out.written.append(f"{self.link} -> {self.target}")
        run.out.would_run.append(self.command)
        run.tick(self.short)


@dataclass(frozen=True)
class HostBind(Command):
    """``source_path`` of ``source_node`` bound at ``target`` in this node, by the backend from the host.

    ``command`` says it in words for the plan (nothing runs on the node). The
    cluster's Backend object does it: ``host_bind(inventory, source=, path=, target_node=, target=)``.
    """

    source_node: str = ""
    source_path: str = ""
    target: str = ""

    def apply(self, run: Run) -> None:
        try:
            run.cluster.kind.host_bind(run.cluster.inventory, source=self.source_node, path=self.source_path,
                                       target_node=run.node.name, target=self.target)
        except Exception as e:  # reported on this node; the others go on
            run.out.problem = f"the {run.cluster.backend} backend could not bind the export: {e}"
            return
        run.out.ran.append(self.command)
        run.tick(self.short)


def wanted(wants: list, *, phase: int = 0) -> list[Action]:
    """The actions for what a node's Platform wants done (:mod:`clusterkit.backends.platform`), in a phase."""
    return [HostBind(w.said, w.why, phase=phase, source_node=w.source_node, source_path=w.source_path,
                     target=w.target) if isinstance(w, Bind) else Command(w.command, w.why, phase=phase, check=w.check)
            for w in wants]


def execute(actions: list[Action], run: Run) -> None:
    """Run one phase of a node's actions in order, as the node's platform carries them out (applied as
    root, or simulated into a sandbox).

    A checked failure puts back the files written in this phase and stops the
    node there; any other error stops it and says after how many files.
    """
    try:
        for action in actions:
            run.node.platform.perform(action, run)
            if run.out.problem:
                return
    except ActionFailed as e:
        run.out.problem = str(e)
        restore(run.node, run.written, timeout=run.timeout)
        run.out.rolled_back = bool(run.written)
        run.tick("failed")
    except Exception as e:  # each file is old or new; say where this node stopped
        run.out.problem = f"stopped after {len(run.out.written) + len(run.out.removed)} files: {e}"


def restore(node: Node, changes: list[FileChange], *, timeout: float | None = None) -> None:
    """Put files back to their old content, the last written first."""
    for change in reversed(changes):
        node.platform.undo(change, node, timeout=timeout)


def _remove(node: Node, path: str, *, timeout: float | None) -> None:
    q = shlex.quote
    r = node.sudo(f"mv -f -- {q(path)} {q(path + BACKUP_SUFFIX)}", timeout=timeout)
    if not r.ok:
        raise ClusterkitError(f"cannot remove: {r.summary()}", node=node.name, field=path)


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
    lines = data.decode("utf-8", "replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


__all__ = ["Action", "FileChange", "Rendered", "Command", "Link", "HostBind", "NodeOutcome",
           "Run", "ActionFailed", "execute", "restore", "wanted"]
