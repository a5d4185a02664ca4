"""The registry of backends: one :class:`Backend` object per kind of node, found by its name.

A backend owns how its nodes are made, what inventory they imply, which Python
they run, how the node agent and the engines start there, and what it can do
from the host. Callers ask it (or its nodes' :class:`~.base.Traits`), never
compare its name. Adding a backend is one module with a :class:`Backend`
subclass and one :func:`register` call (or a lazy entry naming the module, so
that nothing is imported before it is used).

This module imports nothing of clusterkit but its errors, so that the inventory
can read the list of names from here.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from ..errors import ClusterkitError

if TYPE_CHECKING:
    from pathlib import Path

    from ..inventory import Inventory
    from .base import Node

#: The name that lets :func:`resolve` choose.
AUTO = "auto"


class Backend:
    """One kind of node. Subclass it, set :attr:`name`, implement :meth:`make_nodes`, and register an instance."""

    #: Its name in inventories, ``connect(backend=…)``, ``$CLUSTERKIT_BACKEND`` and the CLI's ``--backend``.
    name: str = ""
    #: Whether ``auto`` takes it when no other backend claims the inventory (exactly one backend: local).
    fallback: bool = False
    #: Whether its nodes are this machine: their processes (agent, engines, MPI ranks) run here with the
    #: node's environment (:meth:`Node.env`) and this kernel's Python, and they share its network and sensors.
    on_this_machine: bool = False
    #: Which processes the node agent counts as the node's: "host" (the whole machine), "pidns" (its PID
    #: namespace) or "node" (processes whose environment names the node).
    agent_scope: str = "host"
    #: The agent's LED strip: "auto" (a Blinkt! where there is one) or "virtual".
    agent_leds: str = "auto"

    #: Seconds a reboot of its nodes may take, from the command to SSH answering again (a Pi 4 boots in
    #: well under a minute; the rest is margin for a slow card).
    reboot_seconds: float = 180.0

    def reboot_timeout(self, inventory: Inventory) -> float:
        """How long to wait for ``inventory``'s nodes to come back from a reboot."""
        return self.reboot_seconds

    #: Seconds from starting ipyparallel engines on every node to all of them answering (Python, numpy and
    #: ipyparallel start in a few seconds on a Pi 4). The rest is margin for a slow card and for a busy host:
    #: four local engines and their controller once took over 60 s on 2 cores at a load of 6.5 (a class on
    #: one server is busier). The wait ends as soon as they answer, so a margin costs nothing when they do.
    engine_seconds: float = 180.0

    def engine_timeout(self, inventory: Inventory) -> float:
        """How long to wait for the engines of ``inventory``'s nodes to answer."""
        return self.engine_seconds

    def why_not(self, inventory: Inventory) -> str | None:
        """Why this backend cannot reach ``inventory``'s nodes from here (one line), or None when it can."""
        return None

    def claims(self, inventory: Inventory) -> bool:
        """Whether ``auto`` should choose this backend for ``inventory``."""
        return False

    def inventory_for(self, inventory: Inventory) -> Inventory:
        """The inventory the nodes really have on this backend (the lab's: its own, brought up when needed)."""
        return inventory

    def make_nodes(self, inventory: Inventory, *, connect_timeout: float,
                   sandbox: Path | None = None) -> dict[str, Node]:
        """One Node per inventory node. ``sandbox``: where nodes that are folders of this machine live."""
        raise NotImplementedError

    def python(self, inventory: Inventory) -> str:
        """The Python the nodes run (the agent, the engines, MPI programs)."""
        return sys.executable if self.on_this_machine else inventory.python

    def agent_command(self, node: Node, *, python: str, interval: float) -> str:
        """The command that starts the node agent on ``node`` (``python``: the inventory's)."""
        import shlex
        python = sys.executable if self.on_this_machine else python
        return (f"{shlex.quote(python)} -m clusterkit.agent --node {shlex.quote(node.name)} "
                f"--scope {self.scope_of(node)} --leds {self.agent_leds} --interval {interval:g}")

    def scope_of(self, node: Node) -> str:
        """Which processes ``node``'s agent counts (:attr:`agent_scope`, unless a node of this kind differs)."""
        return self.agent_scope

    def host_bind(self, inventory: Inventory, *, source: str, path: str, target_node: str, target: str) -> None:
        """Bind ``source``'s directory ``path`` at ``target`` inside ``target_node``, from the host (the lab's
        share, where nodes have no NFS client of their own)."""
        raise ClusterkitError(f"binding a folder from the host is not supported on the {self.name} backend",
                              node=target_node, field="backend")

    def __repr__(self) -> str:
        return f"<Backend {self.name}>"


#: name -> the Backend, or "module:attribute" naming it until it is first used.
_ENTRIES: dict[str, Backend | str] = {}
#: The backends ``auto`` asks (loading them): those that may claim an inventory, and the fallback.
_AUTO: list[str] = []


def register(backend: Backend | str, *, name: str | None = None, auto: bool = False) -> None:
    """Add a backend: a :class:`Backend` object, or ``"module:attribute"`` with its ``name`` (loaded on first use).

    ``auto=True``: ``auto`` asks it (:meth:`Backend.claims`), which loads it; leave it False for a backend
    that is only ever chosen by name, so that choosing another never imports it.
    """
    if isinstance(backend, str):
        if not name:
            raise ValueError("a lazy entry needs its name")
    else:
        name = backend.name
    if not name or name == AUTO:
        raise ValueError(f"{name!r} cannot name a backend")
    _ENTRIES[name] = backend
    if auto and name not in _AUTO:
        _AUTO.append(name)


def unregister(name: str) -> None:
    """Remove a backend (a test's own)."""
    _ENTRIES.pop(name, None)
    if name in _AUTO:
        _AUTO.remove(name)


def names() -> tuple[str, ...]:
    """The registered backends' names, in the order they were registered."""
    return tuple(_ENTRIES)


def choices() -> tuple[str, ...]:
    """Every name a user may give: ``auto`` and the registered backends."""
    return (AUTO, *_ENTRIES)


def get(name: str) -> Backend:
    """The backend called ``name`` (not ``auto``: see :func:`resolve`)."""
    entry = _ENTRIES.get(name)
    if entry is None:
        raise ClusterkitError(f"{name!r} is not a backend; choose one of {', '.join(choices())}", field="backend")
    if isinstance(entry, str):
        module, _, attribute = entry.partition(":")
        entry = _ENTRIES[name] = getattr(importlib.import_module(module), attribute)
    return entry


def resolve(name: str, inventory: Inventory) -> Backend:
    """The backend for ``name``; ``auto`` takes the inventory's own, else the first that claims it, else the
    fallback (it never fails)."""
    if name != AUTO:
        return get(name)
    if inventory.backend != AUTO:
        return get(inventory.backend)
    kinds = [get(n) for n in _AUTO]
    for kind in kinds:
        if not kind.fallback and kind.claims(inventory):
            return kind
    return next(k for k in kinds if k.fallback)


__all__ = ["Backend", "AUTO", "register", "unregister", "names", "choices", "get", "resolve"]
