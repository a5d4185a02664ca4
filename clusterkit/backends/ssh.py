"""The ``ssh`` backend: real nodes over SSH, with fabric underneath.

One fabric ``Connection`` per node, opened on first use and kept for later
calls (the warm path), with a connect timeout so an unreachable or frozen node
becomes a failed row, never a hang. ``~/.ssh/config`` is honoured where fabric
honours it (ports, users, ProxyJump, identity files).

Commands run on one SSH exec channel each, read with ``select`` on the channel
rather than through fabric's runner: fabric's runner reads this process's own
stdin (a notebook has none) and starts three threads per command, while a
cluster-wide command wants thousands of small, bounded round trips.

Privilege goes through ``sudo``. The password comes from the inventory (the
lab's workshop password), ``$CLUSTERKIT_SUDO_PASSWORD`` or a prompt, is sent
on the command's stdin only, and is never printed or stored.

Host keys are pinned in one known_hosts file per cluster (see :mod:`.hostkeys`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import shlex
import threading
import time
from pathlib import Path

import paramiko
from fabric import Config, Connection

from ..atomicfile import temp_path
from ..errors import NodeError, PrivilegeRefused
from ..inventory import Inventory, NodeSpec
from ..results import NodeResult
from . import hostkeys, session, sshsocket
from .base import BACKUP_SUFFIX, Node, backup_paths
from .channel import ChannelStream
from .password import SUDO_PASSWORD_ENV, Password
from .registry import Backend
from .sshfail import ConnectError, connect_error, raise_unreachable

_MISSING = 44   # read_file's exit status for "no such file"

# paramiko logs a traceback for every node that does not greet; the row already says why, in one line.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False

#: Every connection this process holds open, with the (host, port, user) it logs in as, by id (for
#: :meth:`SSHNode.close_twins`). The connections themselves, not their nodes: a cluster that is no longer
#: referenced (its notebook cell run again) is collected, but its connection lives on in paramiko's thread.
_OPEN: dict[int, tuple[tuple[str, int, str | None], Connection]] = {}
_OPEN_LOCK = threading.Lock()


class SSHNode(Node):
    """A node reached over SSH."""

    backend = "ssh"

    def __init__(self, spec: NodeSpec, *, known_hosts: Path, password: Password | None = None,
                 key_files: tuple[Path, ...] = (), connect_timeout: float = 10.0, ssh_config: bool = True):
        super().__init__(spec)
        self.known_hosts = Path(known_hosts)
        self.password = password or Password()
        self.key_files = tuple(str(k) for k in key_files if Path(k).is_file())
        self.connect_timeout = connect_timeout
        self.ssh_config = ssh_config
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._sudo: str | None = None    # "root", "nopasswd" or "password", found on first use

    @property
    def identity(self) -> Path | None:
        """The key file of this node's login user that notebook 03 made (for OpenSSH-based tools: mpiexec), or
        None before there is one."""
        for k in self.key_files:
            if Path(k).name == f"id_ed25519_{self.spec.user}":
                return Path(k)
        return None

    # ------------------------------------------------------------ connection
    def _connection(self) -> Connection:
        config = Config() if self.ssh_config else Config(ssh_config=paramiko.SSHConfig())
        kwargs = {"user": self.spec.user} if self.spec.user else {}
        if self.spec.port != 22 or not self.ssh_config:
            kwargs["port"] = self.spec.port
        conn = Connection(self.spec.host, config=config, **kwargs)
        conn.connect_timeout = None     # fabric rounds it to whole seconds; paramiko takes ours below
        t = self.connect_timeout
        conn.connect_kwargs.update(timeout=t, banner_timeout=t, auth_timeout=t, channel_timeout=t)
        if self.key_files:
            conn.connect_kwargs["key_filename"] = list(self.key_files) + list(
                conn.connect_kwargs.get("key_filename") or [])
        if not self.ssh_config:
            conn.connect_kwargs.update(look_for_keys=False, allow_agent=False)
        client = conn.client
        client.get_host_keys().clear()
        client.get_host_keys().update(hostkeys.load(self.known_hosts))
        client.set_missing_host_key_policy(hostkeys.PinnedPolicy(self.name, self.known_hosts))
        return conn

    def _open(self, conn: Connection) -> None:
        password = self.password.known()
        if password:
            conn.connect_kwargs["password"] = password
        try:
            conn.open()
        except paramiko.AuthenticationException:
            conn.close()
            if password is None and (again := self.password.get(f"password of {conn.user}@{self.spec.host}")):
                conn.connect_kwargs["password"] = again
                conn.open()
            else:
                raise
        finally:
            conn.connect_kwargs.pop("password", None)   # kept by the Password only

    def transport(self) -> paramiko.Transport:
        """The node's SSH transport, opened on first use and kept (raises NodeError when it cannot be)."""
        with self._lock:
            conn = self._conn
            if conn is not None and conn.transport is not None and conn.transport.is_active():
                return conn.transport
            if conn is not None:
                _forget(conn)
            conn = self._conn = self._connection()
            try:
                self._open(conn)
            except Exception as e:
                conn.close()
                self._conn = None
                raise connect_error(self, e) from None
            sshsocket.tune(conn.transport, self.connect_timeout)
            with _OPEN_LOCK:
                _OPEN[id(conn)] = (self._login(), conn)
            session.announce(conn.transport, timeout=self.connect_timeout)   # who holds it, said on the node
            return conn.transport

    def _login(self) -> tuple[str, int, str | None]:
        return (self.spec.host, self.spec.port, self.spec.user)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                _forget(self._conn)
                self._conn = None

    def close_twins(self) -> int:
        mine = self._conn
        with _OPEN_LOCK:
            twins = [conn for login, conn in _OPEN.values() if login == self._login() and conn is not mine]
        for conn in twins:
            _forget(conn)
        return len(twins)

    # ------------------------------------------------------------ commands
    def _exec(self, command: str, *, stdin: bytes | None, timeout: float | None,
              shown: str) -> tuple[NodeResult, bytes, bytes]:
        """Run ``command`` on one channel; the result (text) and the raw stdout and stderr."""
        t0 = time.monotonic()
        try:
            chan = self.transport().open_session(timeout=self.connect_timeout)
        except ConnectError as e:
            return NodeResult.failure(self.name, e.status, e.message, time.monotonic() - t0, shown), b"", b""
        except (paramiko.SSHException, OSError, EOFError) as e:
            self.close()
            return NodeResult.failure(self.name, "timeout", f"the connection stopped answering ({e or 'no reply'})",
                                      time.monotonic() - t0, shown), b"", b""
        out, err = bytearray(), bytearray()
        try:
            chan.exec_command(command)
            if stdin:
                chan.settimeout(timeout or None)
                chan.sendall(stdin)
            chan.shutdown_write()
            deadline = None if timeout is None else t0 + timeout
            while True:
                if chan.recv_ready():
                    out += chan.recv(65536)
                elif chan.recv_stderr_ready():
                    err += chan.recv_stderr(65536)
                elif (chan.eof_received and chan.exit_status_ready()) or chan.closed:   # all output read
                    break
                else:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        _kill(chan)
                        return (NodeResult(node=self.name, status="timeout", stdout=out.decode(errors="replace"),
                                           stderr=err.decode(errors="replace"), duration=time.monotonic() - t0,
                                           error=f"no answer within {timeout:g} s; the command was stopped",
                                           command=shown), bytes(out), bytes(err))
                    select.select([chan], [], [], 1.0 if left is None else min(left, 1.0))
            code = chan.recv_exit_status() if chan.exit_status_ready() else None
            if not chan.transport.is_active() and (code is None or code < 0):   # the node went silent
                self.close()
                why = (f"the connection stopped answering (nothing acknowledged for {self.connect_timeout:g} s) "
                       "while the command ran")
                return (NodeResult(node=self.name, status="timeout", stdout=out.decode(errors="replace"),
                                   stderr=err.decode(errors="replace"), duration=time.monotonic() - t0, error=why,
                                   command=shown), bytes(out), bytes(err))
            if code is None:
                return (NodeResult.failure(self.name, "error", "the channel closed without an exit status",
                                           time.monotonic() - t0, shown), bytes(out), bytes(err))
        except (paramiko.SSHException, OSError, EOFError) as e:
            self.close()
            return NodeResult.failure(self.name, "error", f"the connection broke: {e}", time.monotonic() - t0,
                                      shown), bytes(out), bytes(err)
        finally:
            chan.close()
        result = NodeResult.from_exit(self.name, code if code >= 0 else 255, out.decode(errors="replace"),
                                      err.decode(errors="replace"), time.monotonic() - t0, command=shown)
        return result, bytes(out), bytes(err)

    def run(self, command: str, *, timeout: float | None = None, stdin: str | None = None) -> NodeResult:
        return self._exec(command, stdin=stdin.encode() if stdin is not None else None, timeout=timeout,
                          shown=command)[0]

    def _sudo_prefix(self) -> tuple[str, bytes]:
        """How to become root here, found once: the command prefix and what goes first on stdin."""
        if self._sudo is None:
            user = self.transport().get_username()
            if user == "root":
                self._sudo = "root"
            elif (probe := self._exec("sudo -n true", stdin=None, timeout=self.connect_timeout + 20,
                                      shown="sudo -n true")[0]).ok:
                self._sudo = "nopasswd"
            elif not probe.reachable:
                raise ConnectError(probe.error or probe.summary(), node=self.name, field="connect",
                                   status=probe.status)
            else:
                password = self.password.get(f"sudo password of {user} on the cluster's nodes")
                if password is None:
                    raise PrivilegeRefused(f"sudo needs {user}'s password: give it at the prompt or in "
                                           f"${SUDO_PASSWORD_ENV}", node=self.name, field="sudo password")
                check = self._exec("sudo -S -k -p '' true", stdin=(password + "\n").encode(),
                                   timeout=self.connect_timeout + 20, shown="sudo true")[0]
                if not check.reachable:
                    raise ConnectError(check.error or check.summary(), node=self.name, field="connect",
                                       status=check.status)
                if not check.ok:
                    why = "the password was refused" if "incorrect password" in check.stderr or \
                        "try again" in check.stderr else (check.stderr.strip().splitlines() or [check.summary()])[-1]
                    raise PrivilegeRefused(f"sudo as {user}: {why}", node=self.name, field="sudo password")
                self._sudo = "password"
        if self._sudo == "root":
            return "", b""
        if self._sudo == "nopasswd":
            return "sudo -n -- ", b""
        return "sudo -S -k -p '' -- ", (self.password.get("") + "\n").encode()

    def _sudo_exec(self, command: str, *, stdin: bytes | None, timeout: float | None,
                   shown: str) -> tuple[NodeResult, bytes, bytes]:
        try:
            prefix, first = self._sudo_prefix()
        except ConnectError as e:
            return NodeResult.failure(self.name, e.status, e.message, command=shown), b"", b""
        except PrivilegeRefused as e:
            return NodeResult.failure(self.name, "refused", e.message, command=shown), b"", b""
        wrapped = f"{prefix}sh -c {shlex.quote(command)}" if prefix else command
        return self._exec(wrapped, stdin=(first + (stdin or b"")) or None, timeout=timeout, shown=shown)

    def sudo(self, command: str, *, timeout: float | None = None, stdin: str | None = None) -> NodeResult:
        return self._sudo_exec(command, stdin=stdin.encode() if stdin is not None else None, timeout=timeout,
                               shown=f"sudo {command}")[0]

    def open_stream(self, command: str) -> ChannelStream:
        return ChannelStream(self.transport(), command, timeout=self.connect_timeout)

    # ------------------------------------------------------------ files
    def read_file(self, path: str, *, privileged: bool = False) -> bytes | None:
        q = shlex.quote(path)
        script = f"[ -e {q} ] || exit {_MISSING}; cat -- {q}"
        run = self._sudo_exec if privileged else self._exec
        result, out, _ = run(script, stdin=None, timeout=60 + self.connect_timeout, shown=f"read {path}")
        if result.exit_code == _MISSING:
            return None
        raise_unreachable(self, result)
        if not result.ok:
            raise NodeError(f"cannot read {path}: {result.summary()}", node=self.name, field="path")
        return out

    def write_file(self, path: str, data: bytes, *, mode: int | None = None, privileged: bool = False,
                   backup: bool = True) -> str | None:
        if not path.startswith("/"):
            path = f"$HOME/{path}"
        bak, orig = backup_paths(path)
        q, tmp = _q(path), _q(temp_path(path, os.urandom(4).hex()))
        perms = f"chmod {mode:o} {tmp}" if mode is not None else \
            f"if [ -e {q} ]; then chmod --reference={q} {tmp}; else chmod 644 {tmp}; fi"
        keep = (f"if [ -e {q} ]; then [ -e {_q(orig)} ] || cp -p -- {q} {_q(orig)}; cp -p -- {q} {_q(bak)}; "
                f"echo saved; fi; ") if backup else ""
        # A connection cut mid-way ends ``cat`` as if the data were complete: the checksum
        # stops such a file before the rename, so the target is the old file or the new one.
        digest = hashlib.sha256(data).hexdigest()
        script = (f"set -e; umask 077; mkdir -p -- \"$(dirname -- {q})\"; trap 'rm -f -- {tmp}' EXIT; "
                  f"cat > {tmp}; echo '{digest}  '{tmp} | sha256sum -c --status; "
                  f"{perms}; [ -e {q} ] && chown --reference={q} {tmp} 2>/dev/null || true; "
                  f"{keep}mv -f -- {tmp} {q}; trap - EXIT")
        run = self._sudo_exec if privileged else self._exec
        result, out, _ = run(script, stdin=data, timeout=60 + self.connect_timeout, shown=f"write {path}")
        raise_unreachable(self, result)
        if not result.ok:
            raise NodeError(f"cannot write {path}: {result.summary()}", node=self.name, field="path")
        return path.replace("$HOME/", "") + BACKUP_SUFFIX if b"saved" in out else None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.spec.user or ''}{'@' if self.spec.user else ''}" \
               f"{self.spec.host}{'' if self.spec.port == 22 else f':{self.spec.port}'}>"


def _forget(conn: Connection) -> None:
    """Close a connection and drop it from the open ones."""
    with _OPEN_LOCK:
        _OPEN.pop(id(conn), None)
    conn.close()


def _q(path: str) -> str:
    """Quote a path for sh, letting a leading ``$HOME/`` expand."""
    if path.startswith("$HOME/"):
        return '"$HOME"/' + shlex.quote(path[len("$HOME/"):])
    return shlex.quote(path)


def _kill(chan: paramiko.Channel) -> None:
    """Ask sshd to signal the command (OpenSSH's "signal" channel request), then drop the channel."""
    try:
        m = paramiko.Message()
        m.add_byte(paramiko.common.cMSG_CHANNEL_REQUEST)
        m.add_int(chan.remote_chanid)
        m.add_string("signal")
        m.add_boolean(False)
        m.add_string("KILL")
        chan.transport._send_user_message(m)
    except Exception:
        pass


def state_dir(inventory: Inventory) -> Path:
    """Where the workbook host keeps a cluster's keys and known_hosts: ``$CLUSTERKIT_STATE/NAME``,
    else ``~/.local/share/clusterkit/NAME``."""
    base = os.environ.get("CLUSTERKIT_STATE") or Path.home() / ".local" / "share" / "clusterkit"
    return Path(base) / inventory.name


def user_key_files(inventory: Inventory) -> tuple[Path, ...]:
    """The key pairs notebook 03 made for this cluster's users (tried before any password)."""
    d = state_dir(inventory)
    return tuple(sorted(p for p in d.glob("id_ed25519_*") if not p.name.endswith(".pub"))) if d.is_dir() else ()


def make_ssh_nodes(inventory: Inventory, *, connect_timeout: float, known_hosts: Path | None = None,
                   node_class: type[SSHNode] = SSHNode, ssh_config: bool = True) -> dict[str, SSHNode]:
    """One SSH node per inventory node, sharing one password prompt and the cluster's known_hosts."""
    password = Password(inventory.password)
    known = known_hosts or state_dir(inventory) / "known_hosts"
    keys = user_key_files(inventory)
    return {spec.name: node_class(spec, known_hosts=known, password=password, key_files=keys,
                                  connect_timeout=connect_timeout, ssh_config=ssh_config) for spec in inventory}


class SSHBackend(Backend):
    """Real boards over SSH: the inventory names their hosts; the host keys are pinned per cluster."""

    name = "ssh"

    def make_nodes(self, inventory: Inventory, *, connect_timeout: float, sandbox: Path | None = None) -> dict:
        return make_ssh_nodes(inventory, connect_timeout=connect_timeout)


SSH = SSHBackend()


__all__ = ["SSH", "SSHBackend", "SSHNode", "Password", "make_ssh_nodes", "state_dir", "user_key_files", "SUDO_PASSWORD_ENV"]
