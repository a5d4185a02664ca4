"""Host keys: one known_hosts file per cluster, trusted on first use in a step the learner sees.

A node's host key is its identity. The first time, :func:`scan` fetches each
node's key (no login) and shows its fingerprint; :func:`trust` records the new
ones in the cluster's known_hosts. From then on the SSH backend accepts only
the recorded key: a node whose key changed (a reimaged card, or someone in the
middle) is refused with an error naming it, and its line is never overwritten
unless asked.
"""

from __future__ import annotations

import base64
import hashlib
import html
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paramiko

from ..atomicfile import write_atomic
from ..errors import NodeError
from ..inventory import NodeSpec


def host_key_name(spec: NodeSpec) -> str:
    """How known_hosts names a node: its host, as ``[host]:port`` when the port is not 22."""
    return spec.host if spec.port == 22 else f"[{spec.host}]:{spec.port}"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint (what ``ssh-keygen -lf`` prints)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def load(path: Path) -> paramiko.HostKeys:
    keys = paramiko.HostKeys()
    if Path(path).is_file():
        keys.load(str(path))
    return keys


@dataclass(frozen=True)
class HostKey:
    """One node's host key as it answered now, against what the cluster's known_hosts holds."""

    node: str
    host: str
    type: str | None = None
    fingerprint: str | None = None
    state: str = "unreachable"   #: "trusted", "new", "changed" or "unreachable"
    error: str | None = None
    key: paramiko.PKey | None = None
    recorded: str | None = None  #: the recorded fingerprint, when it differs

    @property
    def line(self) -> str:
        return f"{self.host} {self.key.get_name()} {self.key.get_base64()}" if self.key else ""


class HostKeyTable(list):
    """Per node: key type, fingerprint and whether the cluster trusts it (a table in notebooks)."""

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("node", "host", "key", "fingerprint", "state"))
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
                k.node, k.host, k.type or "—", k.fingerprint or "—", _state_text(k))) + "</tr>" for k in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"

    def __repr__(self) -> str:
        return "\n".join(f"{k.node:12} {k.host:22} {k.type or '—':20} {k.fingerprint or '—':52} {_state_text(k)}"
                         for k in self)


def _state_text(k: HostKey) -> str:
    if k.state == "changed":
        return f"CHANGED (recorded {k.recorded}): refused"
    if k.state == "unreachable":
        return f"unreachable: {k.error}"
    return {"trusted": "trusted", "new": "new: not trusted yet"}[k.state]


def _fetch(spec: NodeSpec, timeout: float) -> tuple[paramiko.PKey | None, str | None]:
    """The node's host key from a key exchange alone (no login)."""
    try:
        sock = socket.create_connection((spec.host, spec.port), timeout=timeout)
    except OSError as e:
        return None, f"{spec.host}:{spec.port}: {e.strerror or e}"
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key(), None
    except (paramiko.SSHException, OSError, EOFError) as e:
        return None, f"{spec.host}:{spec.port}: no SSH key exchange ({e})"
    finally:
        transport.close()


def scan(specs: list[NodeSpec], path: Path, *, timeout: float = 10.0) -> HostKeyTable:
    """Each node's host key now, marked trusted, new, changed or unreachable against ``path``."""
    known = load(path)

    def one(spec: NodeSpec) -> HostKey:
        key, error = _fetch(spec, timeout)
        name = host_key_name(spec)
        if key is None:
            return HostKey(spec.name, name, error=error)
        recorded = (known.lookup(name) or {}).get(key.get_name())
        state = "new" if recorded is None else ("trusted" if recorded == key else "changed")
        return HostKey(spec.name, name, key.get_name(), fingerprint(key), state, key=key,
                       recorded=fingerprint(recorded) if state == "changed" else None)

    with ThreadPoolExecutor(max_workers=min(32, max(1, len(specs)))) as pool:
        return HostKeyTable(pool.map(one, specs))


def trust(table: HostKeyTable, path: Path) -> HostKeyTable:
    """Record the ``new`` keys of a scan in ``path`` (atomically); changed keys are never overwritten.

    Returns the rows that were recorded.
    """
    fresh = HostKeyTable(k for k in table if k.state == "new")
    if not fresh:
        return fresh
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    old = path.read_text() if path.is_file() else ""
    text = old + ("" if not old or old.endswith("\n") else "\n") + "".join(k.line + "\n" for k in fresh)
    write_atomic(path, text, mode=0o644)
    return fresh


class PinnedPolicy(paramiko.MissingHostKeyPolicy):
    """A node whose key is not recorded is refused with what to do, naming the node."""

    def __init__(self, node: str, path: Path):
        self.node, self.path = node, path

    def missing_host_key(self, client, hostname, key):
        raise NodeError(f"its host key ({key.get_name()} {fingerprint(key)}) is not trusted yet: check it and run "
                        f"cluster.trust_host_keys() (records it in {self.path})", node=self.node, field="host key")


def changed_key_error(node: str, path: Path, err: paramiko.BadHostKeyException) -> NodeError:
    return NodeError(f"its host key CHANGED: it offered {fingerprint(err.key)}, {path} records "
                     f"{fingerprint(err.expected_key)}. Refused. If you reimaged this board, delete its line "
                     f"there and trust it again", node=node, field="host key")
