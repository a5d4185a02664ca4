"""Results: one per node, and a cluster result that maps node to result.

The first view a learner should see is the gathered one (like ``clush -b``):
identical output printed once under the folded node set, grouped by exit code,
with nodes that timed out or could not be reached listed apart.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterator

from ClusterShell.NodeSet import NodeSet

from .errors import ClusterError

#: What happened on a node. Only "ok" counts as success.
STATUSES = ("ok", "failed", "timeout", "unreachable", "refused", "error")
_APART = ("timeout", "unreachable", "refused", "error")  # listed apart from command output
#: Classes that tell MathJax (JupyterLab's and the classic notebook's) to leave an element alone.
NO_MATH = "mathjax_ignore tex2jax_ignore"


def html_block(inner: str) -> str:
    """One output of clusterkit as HTML that no notebook typesets: ``$(hostname)`` or ``$p`` is shell, not LaTeX."""
    return f'<div class="{NO_MATH}">{inner}</div>'


def html_table(head: list[str], rows: list[tuple[list[str], bool]]) -> str:
    """A small table for a notebook: each row's cells (already HTML) and whether it went well (green, else red)."""
    th = "".join(f"<th style='text-align:left'>{h}</th>" for h in head)
    body = "".join(f"<tr style='background:{'#e6f4ea' if ok else '#fce8e6'}'>"
                   + "".join(f"<td style='text-align:left'>{c}</td>" for c in cells) + "</tr>" for cells, ok in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class NodeResult:
    """What one command did on one node.

    ``status`` is ``ok`` (exit 0), ``failed`` (non-zero exit), ``timeout``
    (the command or the connection took too long), ``unreachable`` (no
    connection), ``refused`` (the backend cannot do this, e.g. a privileged
    command on the local backend) or ``error`` (anything else). ``error`` holds
    the reason in one line when there was no exit code to give.
    """

    node: str
    status: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    error: str | None = None
    command: str = ""
    value: Any = None  #: what a Python-level operation returned (a plan, a file's bytes); not shown

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def reachable(self) -> bool:
        return self.status in ("ok", "failed")

    def summary(self) -> str:
        """One line: the exit code and the last line of stderr, or the error."""
        if self.status == "ok":
            return "ok"
        if self.status == "failed":
            last = (self.stderr.strip().splitlines() or self.stdout.strip().splitlines() or [""])[-1]
            return f"exit {self.exit_code}" + (f": {last}" if last else "")
        return f"{self.status}: {self.error}" if self.error else self.status

    def __repr__(self) -> str:
        return f"<NodeResult {self.node} {self.summary()} ({self.duration:.2f}s)>"

    @classmethod
    def from_exit(cls, node: str, exit_code: int, stdout: str, stderr: str, duration: float,
                  command: str = "") -> "NodeResult":
        return cls(node=node, status="ok" if exit_code == 0 else "failed", exit_code=exit_code,
                   stdout=stdout, stderr=stderr, duration=duration, command=command)

    @classmethod
    def done(cls, node: str, value: Any = None, duration: float = 0.0, stdout: str = "",
             command: str = "") -> "NodeResult":
        """A Python-level operation that succeeded, carrying what it returned."""
        return cls(node=node, status="ok", exit_code=0, stdout=stdout, duration=duration,
                   value=value, command=command)

    @classmethod
    def failure(cls, node: str, status: str, error: str, duration: float = 0.0, command: str = "") -> "NodeResult":
        return cls(node=node, status=status, error=error, duration=duration, command=command)


@dataclass(frozen=True)
class Group:
    """Nodes whose results look the same: one block of the gathered view."""

    nodes: NodeSet
    status: str
    exit_code: int | None
    output: str
    error: str | None

    @property
    def header(self) -> str:
        if self.status in ("ok", "failed"):
            return f"{self.nodes} (exit {self.exit_code})"
        return f"{self.nodes} ({self.status})"


class ClusterResult(Mapping):
    """A mapping from node name to :class:`NodeResult`, in inventory order.

    ``.ok`` is True when every node succeeded; ``.succeeded`` and ``.failed``
    are the sub-results; ``.gathered()`` is the clubak-style view.
    """

    def __init__(self, results: Mapping[str, NodeResult] | list[NodeResult], *, command: str = ""):
        if isinstance(results, Mapping):
            self._results = dict(results)
        else:
            self._results = {r.node: r for r in results}
        self.command = command

    def __getitem__(self, node: str) -> NodeResult:
        return self._results[node]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self._results.values())

    @property
    def succeeded(self) -> "ClusterResult":
        return ClusterResult({n: r for n, r in self._results.items() if r.ok}, command=self.command)

    @property
    def failed(self) -> "ClusterResult":
        return ClusterResult({n: r for n, r in self._results.items() if not r.ok}, command=self.command)

    @property
    def nodes(self) -> NodeSet:
        return NodeSet.fromlist(list(self._results))

    def stdout(self) -> dict[str, str]:
        """Each node's standard output, stripped of the trailing newline."""
        return {n: r.stdout.rstrip("\n") for n, r in self._results.items()}

    def raise_for_failures(self) -> "ClusterResult":
        """Raise :class:`ClusterError` (first few failures, then "… N more") unless every node succeeded."""
        if not self.ok:
            raise ClusterError(self)
        return self

    def gathered(self) -> list[Group]:
        """Identical results once, under the folded node set; command output first, then the rest."""
        buckets: dict[tuple, list[str]] = {}
        for n, r in self._results.items():
            output = (r.stdout + r.stderr) if r.reachable else ""
            key = (r.status, r.exit_code, output, r.error if not r.reachable else None)
            buckets.setdefault(key, []).append(n)

        def order(item):
            (status, code, _out, _err), _nodes = item
            return (status in _APART, status != "ok", code or 0)

        return [Group(nodes=NodeSet.fromlist(nodes), status=s, exit_code=c, output=o, error=e)
                for (s, c, o, e), nodes in sorted(buckets.items(), key=order)]

    # ------------------------------------------------------------ views
    def text(self) -> str:
        """The gathered view as text, like ``clush -b``."""
        out = []
        apart = []
        for g in self.gathered():
            if g.status in _APART:
                apart.append(f"{g.status}: {g.nodes}" + (f" ({g.error})" if g.error else ""))
                continue
            bar = "-" * 15
            out += [bar, g.header, bar]
            if g.output:
                out.append(g.output.rstrip("\n"))
        return "\n".join(out + apart)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        good = len(self.succeeded)
        cmd = f" {self.command!r}" if self.command else ""
        return f"<ClusterResult{cmd} {good}/{len(self)} ok>"

    def _repr_html_(self) -> str:
        rows = []
        for g in self.gathered():
            colour = {"ok": "#e6f4ea", "failed": "#fce8e6"}.get(g.status, "#fef7e0")
            detail = g.output.rstrip("\n") if g.status in ("ok", "failed") else (g.error or "")
            code = "" if g.exit_code is None else str(g.exit_code)
            rows.append(
                f'<tr style="background:{colour}"><td><code>{html.escape(str(g.nodes))}</code></td>'
                f"<td>{g.status}</td><td>{code}</td>"
                f'<td style="text-align:left"><pre style="margin:0">{html.escape(detail)}</pre></td></tr>')
        cmd = f" <code>{html.escape(self.command)}</code>" if self.command else ""
        times = [r.duration for r in self._results.values()]
        slowest = f", slowest {max(times):.2f} s" if times else ""
        return html_block(f"<b>{len(self.succeeded)}/{len(self)} nodes ok</b>{cmd}{slowest}"
                          "<table><thead><tr><th>nodes</th><th>status</th><th>exit</th><th>output</th></tr></thead>"
                          f"<tbody>{''.join(rows)}</tbody></table>")
