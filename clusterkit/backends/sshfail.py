"""Why an SSH node could not be reached, in one line a learner can act on, and the row status it gets."""

from __future__ import annotations

import errno
import socket

import paramiko

from ..errors import NodeError
from ..results import NodeResult
from . import hostkeys


class ConnectError(NodeError):
    """A node that could not be reached or logged in to; ``status`` is its row's status."""

    def __init__(self, message: str, *, node: str, field: str, status: str):
        self.status = status
        super().__init__(message, node=node, field=field)


def raise_unreachable(node, result: NodeResult) -> None:
    """A file operation on a node that did not answer fails with that row's status, not as a file error."""
    if result.status in ("timeout", "unreachable"):
        raise ConnectError(result.error or result.summary(), node=node.name, field="connect", status=result.status)


def connect_error(node, e: Exception) -> ConnectError:
    """One line a learner can act on, for whatever stopped the connection."""
    where = f"{node.spec.host}:{node.spec.port}"
    t = node.connect_timeout

    def err(message: str, field: str = "connect", status: str = "unreachable") -> ConnectError:
        return ConnectError(message, node=node.name, field=field, status=status)

    if isinstance(e, NodeError):             # the host key is not trusted yet
        return err(e.message, e.field or "connect", "error")
    if isinstance(e, paramiko.BadHostKeyException):
        return err(hostkeys.changed_key_error(node.name, node.known_hosts, e).message, "host key", "error")
    if isinstance(e, paramiko.AuthenticationException):
        return err(f"{where} refused the login as {node.spec.user or 'the default user'} ({e}): is the key "
                   f"authorised or the password right?", "login", "error")
    if isinstance(e, paramiko.ssh_exception.NoValidConnectionsError):
        if all(getattr(x, "errno", None) == errno.EHOSTUNREACH for x in e.errors.values()):
            return err(f"no route to {where}: nothing answers at that address (cable, address, or the node is off)")
        return err(f"{where} refused the connection (is sshd running?)")
    if isinstance(e, (socket.timeout, TimeoutError)):
        return err(f"no answer from {where} within {t:g} s", status="timeout")
    if isinstance(e, socket.gaierror):
        return err(f"cannot resolve {node.spec.host}: {e.strerror}")
    if isinstance(e, paramiko.SSHException) and ("banner" in str(e) or "No existing session" in str(e)):
        return err(f"{where} took the connection but sshd did not greet within {t:g} s (frozen or overloaded?)",
                   status="timeout")
    if isinstance(e, OSError):
        return err(f"{where}: {e.strerror or e}")
    if isinstance(e, (paramiko.SSHException, EOFError)):
        return err(f"{where}: SSH failed: {e or type(e).__name__}", status="error")
    return err(f"{where}: {type(e).__name__}: {e}", status="error")
