"""Backends: the ways to reach nodes, each a registered :class:`Backend` behind one :class:`~.base.Node` interface.

| backend | where | what is real |
| ``ssh`` | real boards | everything |
| ``lab`` | namespaces with real sshd on one Linux host | SSH, users, addresses, keys, services |
| ``local`` | no root (Binder, a locked-down laptop) | compute; setup steps render into sandboxes |

The list is written here, once; each entry names its module, imported on first use.
"""

from __future__ import annotations

from .registry import AUTO, Backend, choices, get, names, register, resolve, unregister

register("clusterkit.backends.local:LOCAL", name="local", auto=True)
register("clusterkit.lab.backend:LAB", name="lab", auto=True)
register("clusterkit.backends.ssh:SSH", name="ssh")

__all__ = ["Backend", "AUTO", "register", "unregister", "names", "choices", "get", "resolve"]
