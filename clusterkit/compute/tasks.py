"""A batch of tasks on the engines, and the report of what each task did and where.

Each argument tuple is one task, so a lost node costs only its own tasks and
the report can say which ones. On a direct view every engine gets its share up
front (contiguous blocks, the way ``DirectView.map`` splits); on a load-balanced
view each task goes to the next free engine, and a task whose engine died is
retried on another (``retries``).
"""

from __future__ import annotations

import html
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import ipyparallel as ipp
from ClusterShell.NodeSet import NodeSet

from ..workloads import shares


@dataclass(frozen=True)
class TaskRow:
    """One task: its arguments, where it ran, and how it ended (``ok``, ``failed`` or ``pending``)."""

    index: int
    args: tuple
    status: str
    node: str | None = None
    engine: int | None = None
    error: str | None = None
    retried_from: str | None = None  #: the node it was on when that node was lost (it then ran on ``node``)


@dataclass(frozen=True)
class TaskReport:
    """Every task of a batch; failures never hide the results of the others."""

    rows: tuple[TaskRow, ...]
    results: tuple[Any, ...]
    balanced: bool
    seconds: float
    lost: tuple[str, ...] = ()  #: nodes whose engines left during the batch

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.rows)

    @property
    def failed(self) -> list[TaskRow]:
        return [r for r in self.rows if r.status == "failed"]

    @property
    def retried(self) -> list[TaskRow]:
        """Tasks whose node was lost while they ran, and that another node then finished."""
        return [r for r in self.rows if r.retried_from and r.status == "ok"]

    @property
    def by_node(self) -> dict[str, int]:
        """Tasks that finished on each node."""
        return dict(sorted(Counter(r.node for r in self.rows if r.status == "ok" and r.node).items()))

    def text(self) -> str:
        done = sum(r.status == "ok" for r in self.rows)
        kind = "load-balanced" if self.balanced else "direct"
        lines = [f"{done}/{len(self.rows)} tasks ok ({kind}) in {self.seconds:.2f} s; by node: "
                 + ", ".join(f"{n} {k}" for n, k in self.by_node.items())]
        if self.lost:
            lines.append(f"lost during the run: {NodeSet.fromlist(list(self.lost))}")
        retried = self.retried
        for r in retried[:3]:
            lines.append(f"  task {r.index} {r.args} was on {r.retried_from} when it was lost; retried on {r.node}: ok")
        if len(retried) > 3:
            lines.append(f"  … {len(retried) - 3} more retried")
        failed = self.failed
        for r in failed[:3]:
            lines.append(f"  task {r.index} {r.args} on {r.node or '?'}: {r.error}")
        if len(failed) > 3:
            lines.append(f"  … {len(failed) - 3} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        head, *rest = self.text().splitlines()
        return (f"<div><b>{html.escape(head)}</b>"
                + "".join(f"<div><code>{html.escape(line)}</code></div>" for line in rest) + "</div>")


class Job:
    """Tasks submitted to the engines; ``wait_interactive()`` shows progress, ``report()`` tells what happened."""

    def __init__(self, engines, fn: Callable, args: Iterable[tuple], *, balanced: bool, retries: int = 1,
                 nodes=None):
        self.engines = engines
        self.args = [tuple(a) for a in args]
        self.balanced = balanced
        client = engines.client
        self._known = {e.id: e.node for e in engines.map.engines}
        self.started = time.perf_counter()
        if balanced:
            view = engines.balanced(retries=retries, nodes=nodes)
            self.owners: list[int | None] = [None] * len(self.args)  # the scheduler decides
            self.tasks = [view.apply_async(fn, *a) for a in self.args]
        else:
            ids = engines.ids(nodes)
            blocks = shares(len(self.args), len(ids))
            self.owners = [eid for eid, k in zip(ids, blocks) for _ in range(k)]
            self.tasks = [client[eid].apply_async(fn, *a) for eid, a in zip(self.owners, self.args)]
        # One AsyncResult over every task, for the progress bar and the wall time. It is built from the
        # tasks' own message futures, not their msg_ids: a task that already finished may have left the
        # client's table of futures before its result is filed, and a lookup by id then fails.
        self.ar = ipp.AsyncResult(client, [f for t in self.tasks for f in t._children],
                                  fname=getattr(fn, "__name__", "task"))

    def wait_busy(self, node: str, *, timeout: float = 30.0) -> bool:
        """Wait until an engine of ``node`` holds one of this job's tasks (True), or the timeout passed.

        For a demonstration of a node lost mid-job: pulling its plug then really takes tasks with it.
        """
        ids = self.engines.map.ids(node)
        mine = {m for t in self.tasks for m in t.msg_ids}
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if mine & set(self.engines.held_tasks(ids)):
                return True
            if self.ar.ready():
                return False
            time.sleep(0.02)
        return False

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every task; True when all have ended (well or not)."""
        return self.ar.wait(timeout)

    def wait_interactive(self, *, timeout: float = 300.0) -> None:
        """A progress bar until every task has ended (or ``timeout`` seconds)."""
        self.ar.wait_interactive(timeout=timeout)

    def report(self, *, timeout: float = 60.0) -> TaskReport:
        """Wait (up to ``timeout``) and tell, task by task, where it ran and how it ended."""
        self.ar.wait(timeout)
        rows, results = [], []
        lost_tasks = getattr(self.engines, "lost_tasks", {})
        for i, (a, t) in enumerate(zip(self.args, self.tasks)):
            md = t.metadata if t.ready() else {}
            eid = (md.get("engine_id") if md else None)
            eid = self.owners[i] if eid is None else eid
            node = self._known.get(eid)
            if not t.ready():
                rows.append(TaskRow(i, a, "pending", node, eid))
                results.append(None)
                continue
            was_on = next((lost_tasks[m] for m in t.msg_ids if m in lost_tasks), None)
            try:
                results.append(t.get(0))
                rows.append(TaskRow(i, a, "ok", node, eid, retried_from=was_on if was_on != node else None))
            except Exception as e:
                results.append(None)
                rows.append(TaskRow(i, a, "failed", node, eid, _one_line(e)))
        finished = [t.metadata.get("completed") for t in self.tasks if t.ready() and t.metadata.get("completed")]
        seconds = self.ar.wall_time if finished and self.ar.ready() else time.perf_counter() - self.started
        live = set(self.engines.client.ids)
        lost = tuple(dict.fromkeys(n for eid, n in self._known.items() if eid not in live))
        return TaskReport(tuple(rows), tuple(results), self.balanced, seconds, lost)


def _one_line(error: Exception) -> str:
    name = getattr(error, "ename", None) or type(error).__name__
    text = getattr(error, "evalue", None) or str(error)
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{name}: {first}" if first else name


__all__ = ["Job", "TaskReport", "TaskRow"]
