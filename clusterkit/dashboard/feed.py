"""One node agent per node, read by a thread: the latest sample, or why the node is down."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from .. import backends
from ..backends.base import Node, Stream
from ..errors import ClusterkitError
from ..sample import Sample

#: Seconds before a dead agent is started again.
RESTART_AFTER = 3.0


def agent_command(node: Node, *, python: str, interval: float) -> str:
    """How a node starts its agent (``python``: the inventory's): its backend says which processes count as
    the node and which Python runs it (:meth:`~clusterkit.backends.Backend.agent_command`)."""
    return backends.get(node.backend).agent_command(node, python=python, interval=interval)


@dataclass
class NodeState:
    """What the dashboard knows of one node: its latest sample, or that it is down and why."""

    name: str
    sample: Sample | None = None
    alive: bool = False
    reason: str = "starting"
    seq: int = 0                 #: counts every sample received, across agent restarts
    received: float = 0.0        #: monotonic time of the latest sample


class AgentFeed:
    """Keeps one node's agent running and its latest sample at hand.

    A thread owns the stream: it reads lines; when the agent ends it marks the
    node down with the reason, waits ``restart_after`` seconds and starts it
    again, sending the LED settings it had, so the node's row lives again.
    ``on_sample`` is called (from that thread) after every sample.
    """

    def __init__(self, node: Node, *, command: str, on_sample=None, restart_after: float = RESTART_AFTER):
        self.node = node
        self.command = command
        self.on_sample = on_sample
        self.restart_after = restart_after
        self.state = NodeState(node.name)
        self.settings: dict = {}
        self.stream: Stream | None = None
        self.starts = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"clusterkit-agent-{node.name}")

    def start(self) -> "AgentFeed":
        self._thread.start()
        return self

    # ------------------------------------------------------------ commands
    def send(self, command: dict) -> bool:
        """Send a command (kept and sent again after a restart); False when the agent is not there."""
        with self._lock:
            for key in ("pattern", "brightness", "fill"):
                if key in command:
                    self.settings[key] = command[key]
            if "pattern" in command and "fill" not in command:
                self.settings.pop("fill", None)   # a pattern replaces a fill
            if "pids" in command:
                self.settings["pids"] = sorted(set(self.settings.get("pids", [])) | set(command["pids"]))
            if command.get("clear"):
                self.settings["pattern"] = "clear"
                self.settings.pop("fill", None)
            stream = self.stream
        if stream is None:
            return False
        try:
            stream.send(json.dumps(command))
            return True
        except (OSError, ValueError):
            return False

    # ------------------------------------------------------------ the thread
    def _down(self, reason: str) -> None:
        self.state.alive = False
        self.state.reason = reason
        if self.on_sample:
            self.on_sample(self.state)

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                stream = self.node.open_stream(self.command)
            except (ClusterkitError, OSError) as e:
                self._down(f"agent cannot start: {e}")
                self._closing.wait(self.restart_after)
                continue
            with self._lock:
                self.stream = stream
                settings = dict(self.settings)
            self.starts += 1
            if settings:
                self.send(settings)
            bye = None
            for line in iter(stream.readline, ""):  # "" at the end of the agent
                try:
                    sample = Sample.from_json(line)
                except ValueError:
                    continue
                if sample.bye is not None:
                    bye = sample.bye
                    continue
                st = self.state
                st.sample, st.alive, st.reason = sample, True, ""
                st.seq += 1
                st.received = time.monotonic()
                if self.on_sample:
                    self.on_sample(st)
            with self._lock:
                self.stream = None
            stream.close(timeout=1.0)
            if self._closing.is_set():
                break
            why = stream.reason or "its output ended"
            self._down(f"agent {why}" + (f" ({bye})" if bye else ""))
            self._closing.wait(self.restart_after)

    def close(self, *, timeout: float = 3.0) -> None:
        """Stop the agent (it clears its LEDs) and the thread."""
        self._closing.set()
        stream = self.stream
        if stream is not None:
            stream.close(timeout=timeout)
        self._thread.join(timeout)
