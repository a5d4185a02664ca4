"""The jobs panel (notebook 10): which Slurm job runs on which node, fed by ``squeue`` on the login node.

:class:`JobsTable` is a component like those of :mod:`.components` (``.source``,
``.root``, ``.update(rows)``; an update that changes nothing sends nothing): one
row per node with the jobs running there, and a last row for the jobs waiting,
with Slurm's reason. :class:`JobsPanel` is the widget: the table, a status line,
and a thread it owns that asks ``squeue`` every ``interval`` seconds until
:meth:`JobsPanel.close`.
"""

from __future__ import annotations

import html
import threading
import time
from typing import TYPE_CHECKING

import ipywidgets as widgets
from bokeh.models import ColumnDataSource, DataTable, TableColumn
from jupyter_bokeh import BokehModel

from ..compute import slurm
from ..errors import ClusterkitError
from ..kernel import load_bokehjs
from .panel import Panel

if TYPE_CHECKING:
    from ..cluster import Cluster

WAITING = "(waiting)"


class JobsTable(Panel):
    """One row per node: the jobs running there and their states; then one row of the jobs still waiting."""

    def __init__(self, nodes: list[str]):
        super().__init__(nodes)
        self.source = ColumnDataSource(self._data([]), name="jobs")
        columns = [TableColumn(field="node", title="node", width=80), TableColumn(field="jobs", title="jobs"),
                   TableColumn(field="state", title="state", width=160)]
        self.root = DataTable(source=self.source, columns=columns, index_position=None, sizing_mode="stretch_width",
                              height=28 * (len(nodes) + 2), name="jobs_table")

    def _data(self, rows: list[slurm.QueueRow]) -> dict:
        on: dict[str, list[slurm.QueueRow]] = {n: [] for n in self.nodes}
        waiting = []
        for r in rows:
            if r.state == "PENDING" or not r.nodes:
                waiting.append(r)
            for n in r.nodes:
                on.setdefault(n, []).append(r)
        names = list(on)
        jobs = [", ".join(f"{r.job} {r.name} ({r.user})" for r in on[n]) or "—" for n in names]
        states = [", ".join(sorted({r.state.lower() for r in on[n]})) or "idle" for n in names]
        if waiting:
            names.append(WAITING)
            jobs.append(", ".join(f"{r.job} {r.name} ({r.user})" for r in waiting))
            states.append(", ".join(sorted({f"pending: {r.reason}" for r in waiting})))
        return {"node": names, "jobs": jobs, "state": states}

    def update(self, rows: list[slurm.QueueRow]) -> bool:
        data = self._data(rows)
        if data == dict(self.source.data):
            return False
        self.source.data = data
        return True

    def running_on(self) -> dict[str, str]:
        """node -> its jobs, as the table shows them now (for tests and the notebook)."""
        return dict(zip(self.source.data["node"], self.source.data["jobs"]))


class JobsPanel(widgets.VBox):
    """The live jobs table of a cluster: ``squeue`` every ``interval`` seconds in a thread this panel owns.

    ``start=False`` starts no thread (call :meth:`update` yourself). On the local
    backend no Slurm runs; the status line says so and the table stays empty.
    """

    def __init__(self, cluster: Cluster, *, interval: float = 1.0, start: bool = True):
        if interval <= 0:
            raise ClusterkitError(f"must be positive, not {interval}", field="interval")
        self.cluster = cluster
        self.interval = interval
        self.table = JobsTable([n.name for n in cluster])
        self.status = widgets.HTML()
        self.updates = 0
        self.error: str | None = None
        load_bokehjs()
        super().__init__([self.status, BokehModel(self.table.root)])
        self.add_class("ck-jobs")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="clusterkit-jobs")
        self.update()
        if start and slurm.runs_slurm(cluster):
            self._thread.start()

    def update(self) -> bool:
        """Ask squeue once and refresh the table; True when something changed."""
        head = f"<b>Jobs on {html.escape(self.cluster.name)}</b> (squeue on {slurm.login(self.cluster).name})"
        if not slurm.runs_slurm(self.cluster):
            self.status.value = head + ": the local backend runs no Slurm, so no job ever shows here"
            return self.table.update([])
        try:
            rows = slurm.queue(self.cluster)
            self.error = None
        except ClusterkitError as e:
            self.error = e.message
            self.status.value = f"{head}: {html.escape(e.message)}"
            return False
        running = sum(1 for r in rows if r.state == "RUNNING")
        self.status.value = (f"{head}: {running} running, {len(rows) - running} other, at "
                             f"{time.strftime('%H:%M:%S')}")
        changed = self.table.update(rows)
        self.updates += changed
        return changed

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.update()

    def stop(self) -> None:
        """Stop asking squeue (the widget stays, frozen at its last state)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5 + self.interval)

    def close(self, *, keep_picture: bool = True) -> None:
        """Stop the thread; the table stays on the page as it was last (``keep_picture=False`` closes it too).

        A closed widget leaves a blank output where the table was, so a notebook keeps the picture.
        """
        self.stop()
        if keep_picture:
            if "stopped at" not in self.status.value:
                self.status.value += f" <i>(stopped at {time.strftime('%H:%M:%S')}: no longer live)</i>"
            return
        super().close()

    def __repr__(self) -> str:
        return f"<JobsPanel {self.cluster.name}: {'live' if self._thread.is_alive() else 'stopped'}>"
