"""Engines on the nodes: an ipyparallel controller on this machine, engines spread over the nodes.

``cluster.engines(per_node=1)`` starts them and returns :class:`Engines`: its
``client`` is an ordinary :class:`ipyparallel.Client`; its ``map`` says which
engine runs for which node (every engine is asked, nothing is assumed from the
start order). ``stop()``, the end of a ``with`` block, or the end of the Python
process that started them (even by SIGKILL, as when nbval kills a kernel) ends
every engine and the controller.

How they start depends on the kind of node, and its backend chooses
(``Platform.start_engines``, :mod:`.starters`): on this machine, one engine set
per node with its node's environment (the local backend), or on each node over
the cluster's own SSH connections (boards, the lab); MPI engines under
``mpiexec``, one rank block per node. Stopping is :mod:`.stopping`'s.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import logging
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING

import ipyparallel as ipp
from ClusterShell.NodeSet import NodeSet
from traitlets.config import Config

from ..errors import ClusterkitError
from .enginemap import EngineMap, ask
from .launch import leashed
from .starters import WAYS, Launch
from .stopping import QuietStop, group_alive, launched_groups, sweep

if TYPE_CHECKING:
    from ..cluster import Cluster

#: Seconds ``stop()`` gives everything to end before it kills what is left.
STOP_TIMEOUT = 10.0
#: Seconds the engines get to leave on their own (a shutdown request) before their processes are signalled.
SHUTDOWN_WAIT = 5.0
#: seconds :meth:`Engines.kill` waits for a launcher here to see its engines end
KILL_NOTICE = 10.0


class ComputeError(ClusterkitError):
    """Engines that would not start, or a computation that cannot go on; names the node when it is one node's."""


class Engines:
    """ipyparallel engines on the nodes of a cluster, and the map from engine to node.

    Make them with :meth:`clusterkit.Cluster.engines`. ``client`` is the
    ipyparallel client; :meth:`view` and :meth:`balanced` give its direct and
    load-balanced views; ``pids`` gives the engine processes of each node (for
    the dashboard). Use it in a ``with`` block, or call :meth:`stop`.
    """

    def __init__(self, cluster: Cluster, *, per_node: int = 1, nodes=None, mpi: bool = False,
                 timeout: float | None = None):
        if timeout is None:
            timeout = cluster.kind.engine_timeout(cluster.inventory)
        if per_node < 1:
            raise ComputeError(f"must be at least 1, not {per_node}", field="per_node")
        if timeout <= 0:
            raise ComputeError(f"must be positive, not {timeout}", field="timeout")
        self.cluster = cluster
        self.backend: str = cluster.backend
        #: How the engines start on these nodes, as their Platform says (:mod:`.starters`).
        self.starter = cluster.primary.platform.start_engines(WAYS)
        self.nodes = cluster.select(nodes)
        self.per_node = per_node
        self.mpi = mpi
        self.timeout = timeout
        self.client: ipp.Client | None = None
        #: Set when the nodes' Python differs from this kernel's (what then fails, and what to do).
        self.python_warning: str | None = None
        self._remote = None  # NodeEngines, when the engines were started over the cluster's connections
        self.map: EngineMap | None = None
        self._ipp: ipp.Cluster | None = None
        self._quiet: QuietStop | None = None   # holds ipyparallel's stop reports while stop() runs
        self._profile: str | None = None
        self._groups: list[int] = []  # process groups of the leashes, killed for good in stop()
        self._info: dict | None = None  # the engines' connection info (over SSH), to start more: rejoin()
        #: Tasks (msg ids) that engines held when :meth:`kill` pulled their plug, and the node they were on:
        #: a job's report names those that another engine then ran (retried).
        self.lost_tasks: dict[str, str] = {}
        self._addresses: dict[str, str] | None = None  # each node's address of the controller, when they differ

    # ------------------------------------------------------------ start
    @property
    def nodeset(self) -> NodeSet:
        return NodeSet.fromlist([n.name for n in self.nodes])

    @property
    def running(self) -> bool:
        return self.client is not None

    def start(self) -> "Engines":
        """Start the controller and the engines; return once every engine has answered (or raise, leaving nothing)."""
        if self.running:
            return self
        launch = self.starter.launch(self.cluster, self.nodes, per_node=self.per_node, mpi=self.mpi)
        self._addresses = launch.addresses
        self._profile = tempfile.mkdtemp(prefix="clusterkit-ipp-")
        config = Config()
        config.LocalControllerLauncher.controller_cmd = leashed([sys.executable, "-m", "ipyparallel.controller"])
        config.LocalControllerLauncher.connection_info_timeout = self.timeout
        config.LocalControllerLauncher.stop_seconds_until_kill = 3
        config[launch.launcher.__name__].stop_seconds_until_kill = 3
        self._ipp = ipp.Cluster(
            profile_dir=self._profile, cluster_id=f"clusterkit-{secrets.token_hex(4)}", cluster_file="",
            controller_ip=launch.ip, controller_location=launch.location,
            engine_launcher_class=launch.launcher, engine_timeout=int(self.timeout),
            load_profile=False, log_level=logging.WARNING, config=config, shutdown_atexit=True)
        self._quiet = QuietStop(self._ipp.log)
        try:
            self._start(launch)
        except BaseException as e:
            logs = self._log_tail()
            self.stop()
            if isinstance(e, ComputeError):
                raise
            raise ComputeError(f"engines did not start: {type(e).__name__}: {e}{logs}", field="engines") from e
        return self

    def _start(self, launch: Launch) -> None:
        self._ipp.start_controller_sync()
        self._groups.append(self._ipp.controller.pid)
        self._quiet.watch(self._ipp.controller)
        expected = sum(s.n for s in launch.sets)
        if launch.over_connections:
            expected += self._start_on_nodes()
        for s in launch.sets:
            self._ipp.start_engines_sync(s.n, s.id, **s.launcher)
            self._quiet.watch(self._ipp.engines[s.id])
            if launch.local_processes:   # their groups are this machine's: swept at stop
                self._groups.extend(launched_groups(self._ipp.engines[s.id]))
        self.client = self._ipp.connect_client_sync()
        self._wait_for_engines(expected)

    def _start_on_nodes(self) -> int:
        """Start every node's engines over the cluster's SSH connections; how many engines to wait for."""
        from .remote import NodeEngines
        # ipyparallel's own wait for the controller's files (it notices a controller that died, and a file
        # caught half-written); run on an event loop of its own, since a notebook's kernel already runs one.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            info = pool.submit(asyncio.run, self._ipp.controller.get_connection_info()).result()
        self._info = info["engine"]
        self._remote = NodeEngines(self.cluster, self.nodes, per_node=self.per_node, connection_info=self._info,
                                   addresses=self._addresses)
        failed = self._remote.failed
        if failed:
            why = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
            raise ComputeError(f"engines could not be started on {why}", node=str(NodeSet.fromlist(list(failed))),
                               field="engines")
        return self.per_node * len(self.nodes)

    def _wait_for_engines(self, n: int) -> None:
        try:
            self.client.wait_for_engines(n, timeout=self.timeout)
        except TimeoutError:
            got = self._ask() if self.client.ids else EngineMap((), tuple(x.name for x in self.nodes))
            raise ComputeError(f"only {len(got)} of {n} engines answered within {self.timeout:g} s; "
                               f"none from {got.empty_nodes or self.nodeset}{self._log_tail()}",
                               node=str(got.empty_nodes) or None, field="engines") from None
        self.map = self._ask()

    def _ask(self) -> EngineMap:
        """Ask every engine who it is (:func:`~.enginemap.ask`); note when their Python differs from this one's."""
        found, self.python_warning = ask(self.client[:], [n.name for n in self.nodes], timeout=self.timeout)
        return found

    def _log_tail(self, lines: int = 3) -> str:
        """The last lines of the engines' and controller's logs, to say why a start failed."""
        if not self._profile:
            return ""
        if self._remote is not None:
            return self._remote.log_tail(lines)
        tail = []
        logdir = os.path.join(self._profile, "log")
        for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            with open(os.path.join(logdir, name), errors="replace") as f:
                last = [ln.rstrip() for ln in f.read().splitlines() if ln.strip()][-lines:]
            if last:
                tail.append(f"  {name}: " + " | ".join(last))
        return ("\n" + "\n".join(tail[:6])) if tail else ""

    # ------------------------------------------------------------ use
    def _need(self) -> ipp.Client:
        if self.client is None:
            raise ComputeError("the engines are not running (start() them, or use a with block)", field="engines")
        return self.client

    def refresh(self) -> EngineMap:
        """Ask the engines that are still there again (after a node was lost)."""
        self.map = self._ask()
        return self.map

    def ids(self, nodes=None, *, spread: bool = False) -> list[int]:
        """Engine ids of the chosen nodes (all by default) still registered with the controller, in node order.

        ``spread=True`` takes one engine of each node before a second of any, so
        that the first ``k`` ids use as many nodes as they can.
        """
        client = self._need()
        if nodes is None or (isinstance(nodes, str) and nodes in self.map.nodes):  # one name: no NodeSet parse
            wanted = None if nodes is None else {nodes}
        else:
            wanted = set(self.cluster.inventory.select(nodes))
        live = set(client.ids)
        per_node = [[i for i in ids if i in live] for n, ids, _ in self.map.rows() if wanted is None or n in wanted]
        if spread:
            return [ids[k] for k in range(max(map(len, per_node), default=0)) for ids in per_node if k < len(ids)]
        return [i for ids in per_node for i in ids]

    def view(self, nodes=None) -> ipp.DirectView:
        """A direct view on the engines of the chosen nodes (all by default): each engine gets its share up front."""
        return self._need()[self.ids(nodes)]

    def balanced(self, *, retries: int = 1, nodes=None) -> ipp.LoadBalancedView:
        """A load-balanced view: each task goes to the next free engine, and one that died is retried elsewhere."""
        lbview = self._need().load_balanced_view(self.ids(nodes) if nodes is not None else None)
        lbview.retries = retries
        return lbview

    def submit(self, fn, args, *, balanced: bool = True, retries: int = 1, nodes=None):
        """Run ``fn(*a)`` for every tuple ``a`` of ``args`` as its own task; returns a :class:`~.tasks.Job`.

        ``balanced=False``: every engine gets its share up front (a direct view);
        ``balanced=True``: the next free engine takes the next task, and a task
        whose engine died is retried elsewhere up to ``retries`` times.
        """
        from .tasks import Job
        self._need()
        return Job(self, fn, args, balanced=balanced, retries=retries, nodes=nodes)

    def rejoin(self, nodes=None) -> list[str]:
        """Start engines again on the chosen nodes (all by default) that have none registered any more, e.g. a
        carrier whose link came back (:mod:`clusterkit.carriers`); returns those nodes. Over SSH only."""
        client = self._need()
        if self._remote is None or self._info is None:
            raise ComputeError("only engines started over the nodes' SSH connections can be started again",
                               field="engines")
        from .remote import NodeEngines
        live = set(client.ids)
        mine = {n.name for n in self.nodes}
        chosen = [n for n in (self.cluster.select(nodes) if nodes is not None else self.nodes) if n.name in mine]
        missing = [n for n in chosen if not any(e.id in live for e in self.map.engines if e.node == n.name)]
        if not missing:
            return []
        for n in missing:   # the old leash, if its channel still stands, ends what is left of the old engines
            old = self._remote.streams.pop(n.name, None)
            if old is not None:
                old.close(timeout=2.0)
        fresh = NodeEngines(self.cluster, missing, per_node=self.per_node, connection_info=self._info,
                            addresses=self._addresses)
        self._remote.streams.update(fresh.streams)
        if fresh.failed:
            why = "; ".join(f"{name}: {reason}" for name, reason in fresh.failed.items())
            raise ComputeError(f"engines could not be started again on {why}", field="engines",
                               node=str(NodeSet.fromlist(list(fresh.failed))))
        try:
            client.wait_for_engines(len(live) + self.per_node * len(missing), timeout=self.timeout)
        except TimeoutError:
            raise ComputeError(f"the engines started again did not answer within {self.timeout:g} s",
                               node=str(NodeSet.fromlist([n.name for n in missing])), field="engines") from None
        self.map = self._ask()
        return [n.name for n in missing]

    @property
    def pids(self) -> dict[str, list[int]]:
        """Engine processes by node, e.g. ``dash.watch(engines.pids)``."""
        return self.map.pids if self.map else {}

    def kill(self, node: str) -> list[int]:
        """Kill the engines of one node at once (SIGKILL), as if the board lost power; returns their ids.

        The controller notices within a moment; tasks they held fail, and a
        load-balanced view retries them on other engines. Where ipyparallel
        launched them here (one engine set per node), this returns once their
        launcher has seen them end, so its warning (the exit code and the
        engines' output) shows in the cell that pulled the plug.
        """
        self._need()
        if node not in self.map.nodes:
            raise ComputeError(f"not one of the engines' nodes ({self.nodeset})", node=node, field="node")
        engines = [e for e in self.map.engines if e.node == node]
        pids = " ".join(str(e.pid) for e in engines)
        launcher = self._ipp.engines.get(node) if self._ipp is not None else None
        ended = threading.Event()
        told = _loop_running(launcher)   # in a script no loop of ipyparallel's runs: nothing would tell us
        if told:
            launcher.on_stop(lambda _data: ended.set())   # runs after the cluster's own "engine set stopped" log
        held = self.held_tasks([e.id for e in engines])
        self.cluster[node].run(f"kill -9 {pids}", timeout=10)
        self.lost_tasks.update({msg_id: node for msg_id in held})
        if told:
            ended.wait(KILL_NOTICE)
        return [e.id for e in engines]

    def held_tasks(self, ids: list[int]) -> list[str]:
        """The tasks (msg ids) these engines hold now, queued or running, as the controller knows them."""
        if self.client is None or not ids:
            return []
        try:
            status = self.client.queue_status(targets=ids, verbose=True)
        except Exception:   # an engine already gone: the controller refuses the whole question
            return []
        return [m for eid in ids for key in ("queue", "tasks") for m in (status.get(eid) or {}).get(key, [])]

    # ------------------------------------------------------------ stop
    def stop(self, *, timeout: float = STOP_TIMEOUT) -> None:
        """End every engine and the controller; nothing of them is left running afterwards.

        ipyparallel's launchers report each process's output and exit code as it
        stops; exits that this stop caused are kept quiet, and a process that
        ended otherwise (killed, crashed) is still shown with its output
        (:class:`~.stopping.QuietStop`).
        """
        if self._quiet is None:   # never started
            self._stop(timeout)
            return
        with self._quiet:
            self._stop(timeout)

    def _stop(self, timeout: float) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:  # ask the engines to exit first: MPI engines can then finalize together, at once
                client.shutdown(targets="all", block=False)
                end = time.monotonic() + min(timeout / 2, SHUTDOWN_WAIT)
                engine_groups = self._groups[1:]  # [0] is the controller's
                while (client.ids or any(map(group_alive, engine_groups))) and time.monotonic() < end:
                    time.sleep(0.05)
            except Exception:
                pass
            try:
                client.close()
            except Exception:
                pass
        if self._remote is not None:
            remote, self._remote = self._remote, None
            remote.stop(timeout=min(timeout, SHUTDOWN_WAIT))
        if self._ipp is not None:
            ipp_cluster, self._ipp = self._ipp, None
            try:
                ipp_cluster.stop_cluster_sync()
            except Exception as e:  # a launcher that failed to stop: the sweep below still ends its processes
                logging.getLogger(__name__).debug("stop_cluster: %r", e)
        sweep(self._groups, until=time.monotonic() + timeout)
        self._groups = []
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def __enter__(self) -> "Engines":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):
        if getattr(self, "client", None) is not None or getattr(self, "_ipp", None) is not None:
            self.stop()

    # ------------------------------------------------------------ show
    def __len__(self) -> int:
        return len(self.client.ids) if self.client is not None else 0

    def __repr__(self) -> str:
        state = f"{len(self)} running" if self.running else "stopped"
        kind = "mpi " if self.mpi else ""
        return f"<Engines(nodes={self.nodeset}, backend={self.backend}, {kind}engines={state})>"

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        warning = f"<p><b>Note:</b> {html.escape(self.python_warning)}</p>" if self.python_warning else ""
        return f"<div><code>{head}</code>{warning}{self.map._repr_html_() if self.running and self.map else ''}</div>"


def _loop_running(launcher) -> bool:
    """``launcher``'s event loop runs (in a notebook, on ipyparallel's own thread), so its stop callbacks
    will be called; in a plain script no loop runs between calls and they never are."""
    loop = getattr(getattr(launcher, "loop", None), "asyncio_loop", None)
    return loop is not None and loop.is_running()


__all__ = ["Engines", "ComputeError"]
