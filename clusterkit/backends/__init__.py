"""Backends: the ways to reach nodes, each a registered :class:`Backend` behind one :class:`~.base.Node` interface.

| backend | where | what is real |
| ``ssh`` | real boards | everything |
| ``lab`` | namespaces with real sshd on one Linux host | SSH, users, addresses, keys, services |
| ``local`` | no root (Binder, a locked-down laptop) | compute; setup steps render into sandboxes |

This layer registers none of them. The list of kinds of node is written once, in the package's own
``clusterkit/__init__.py`` (the layer of :func:`clusterkit.connect`, above every backend), as lazy
``"module:attribute"`` entries: the lab's backend lives in :mod:`clusterkit.lab`, a layer above this one, and a
lower layer never names a higher one, not even by string. Every import of a clusterkit module runs the
package's ``__init__`` first, so the list is complete before any inventory is read.
"""

from __future__ import annotations

from .registry import AUTO, Backend, choices, get, names, register, resolve, unregister

__all__ = ["Backend", "AUTO", "register", "unregister", "names", "choices", "get", "resolve"]
