"""The local backend: nodes that are sandbox directories on this machine, no root needed.

Each node has a directory that stands for its root file system: setup steps
read, render, validate and diff their files there. Commands run on this machine
with the node's name in the environment (``CLUSTERKIT_NODE``), and a
``hostname`` on the node's ``PATH`` that answers with the node's name. A
privileged command is never run and never silently skipped: it comes back with
status ``refused`` and a message saying why.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from ..errors import NodeError
from ..inventory import Inventory, NodeSpec
from ..results import NodeResult
from ..atomicfile import write_atomic
from .base import Node, Stream, Traits, backup_paths
from .registry import Backend
from .sandboxplatform import SANDBOX

REFUSED = "the local backend has no root, so this privileged command was not run: {cmd}"


def default_sandbox_root() -> Path:
    """``$CLUSTERKIT_SANDBOX``, else ``~/.cache/clusterkit/sandbox``."""
    env = os.environ.get("CLUSTERKIT_SANDBOX")
    return Path(env) if env else Path.home() / ".cache" / "clusterkit" / "sandbox"


def run_process(argv: list[str], *, node: str, command: str, timeout: float | None,
                stdin: str | None = None, env: dict | None = None, cwd: str | os.PathLike | None = None) -> NodeResult:
    """Run a process in its own session; on timeout kill its whole process group."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                                start_new_session=True, text=True, errors="replace")
    except OSError as e:
        return NodeResult.failure(node, "error", f"cannot start: {e.strerror}", command=command)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return NodeResult(node=node, status="timeout", stdout=out, stderr=err,
                          duration=time.monotonic() - start,
                          error=f"no answer within {timeout:g} s; the command was killed", command=command)
    return NodeResult.from_exit(node, proc.returncode, out, err, time.monotonic() - start, command=command)


class ProcessStream(Stream):
    """A child process in its own session, its stdin and stdout as text lines."""

    def __init__(self, argv: list[str], *, env: dict | None = None, cwd: str | os.PathLike | None = None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=cwd, start_new_session=True, text=True, bufsize=1,
                                     errors="replace")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, line: str) -> None:
        self.proc.stdin.write(line.rstrip("\n") + "\n")
        self.proc.stdin.flush()

    def readline(self) -> str:
        try:
            line = self.proc.stdout.readline()
        except ValueError:  # closed
            return ""
        if not line:
            self.proc.stdout.close()
        return line

    @property
    def reason(self) -> str | None:
        rc = self.proc.poll()
        if rc is None:
            return None
        try:
            err = (self.proc.stderr.read() if rc else "") or ""
        except ValueError:
            err = ""
        last = err.strip().splitlines()[-1:] if err.strip() else []
        why = f"killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
        return f"{why}: {last[0]}" if last else why

    def close(self, *, timeout: float = 2.0) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


class LocalNode(Node):
    backend = "local"
    privileged = False
    #: A folder of this machine: its kernel, clock and cores are the host's, and nothing runs services.
    traits = Traits(own_kernel=False, own_clock=False, own_cores=False, init_system=False)
    platform = SANDBOX

    def __init__(self, spec: NodeSpec, *, root: Path):
        super().__init__(spec)
        self.root = Path(root)
        self.sandbox = self.root
        self.user = spec.user or getpass.getuser()
        self.home = self.root / "home" / self.user
        self.bin = self.root / "usr" / "local" / "bin"
        for d in (self.root / "etc", self.home, self.bin, self.root / "tmp"):
            d.mkdir(parents=True, exist_ok=True)
        shim = self.bin / "hostname"
        if not shim.exists():
            shim.write_text('#!/bin/sh\n# The local backend: this node\'s name stands for its hostname.\n'
                            'echo "$CLUSTERKIT_NODE"\n')
            shim.chmod(0o755)
        hostname = self.root / "etc" / "hostname"
        if not hostname.exists():
            hostname.write_text(spec.name + "\n")

    def env(self) -> dict[str, str]:
        """This process's environment, plus the node's name, its sandbox, and the ``hostname`` that answers it."""
        env = dict(os.environ)
        env.update(CLUSTERKIT_NODE=self.name, CLUSTERKIT_ROOT=str(self.root), HOSTNAME=self.name,
                   PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}")
        return env

    def run(self, command: str, *, timeout: float | None = None, stdin: str | None = None) -> NodeResult:
        return run_process(["/bin/sh", "-c", command], node=self.name, command=command, timeout=timeout,
                           stdin=stdin, env=self.env(), cwd=self.home)

    def sudo(self, command: str, *, timeout: float | None = None, stdin: str | None = None) -> NodeResult:
        return NodeResult.failure(self.name, "refused", REFUSED.format(cmd=command), command=command)

    def open_stream(self, command: str) -> ProcessStream:
        return ProcessStream(["/bin/sh", "-c", f"exec {command}"], env=self.env(), cwd=self.home)

    # ------------------------------------------------------------ files
    def local_path(self, path: str) -> Path:
        return self.path(path)

    def list_dir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(self.path(path)))
        except OSError:
            return []

    def path(self, path: str) -> Path:
        """Where a node path lives in the sandbox; relative paths are under the user's home."""
        base = self.root if path.startswith("/") else self.home
        target = (base / path.lstrip("/")).resolve()
        root = self.root.resolve()
        if target != root and root not in target.parents:
            raise NodeError(f"{path!r} leads outside the node's sandbox", node=self.name, field="path")
        return target

    def read_file(self, path: str, *, privileged: bool = False) -> bytes | None:
        try:
            return self.path(path).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise NodeError(f"cannot read {path}: {e.strerror}", node=self.name, field="path") from None

    def write_file(self, path: str, data: bytes, *, mode: int | None = None, privileged: bool = False,
                   backup: bool = True) -> str | None:
        target = self.path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            old_mode = target.stat().st_mode & 0o7777 if target.exists() else None
            saved = None
            if target.exists() and backup:
                bak, orig = (Path(p) for p in backup_paths(str(target)))
                if not orig.exists():
                    shutil.copy2(target, orig)
                shutil.copy2(target, bak)
                saved = path + (str(bak)[len(str(target)):])
            write_atomic(target, data, mode=mode if mode is not None else (old_mode if old_mode is not None else 0o644))
            return saved
        except OSError as e:
            raise NodeError(f"cannot write {path}: {e.strerror}", node=self.name, field="path") from None



class LocalBackend(Backend):
    """Nodes that are folders of this machine (``sandbox/INVENTORY/NODE``): no root, no network of their own."""

    name = "local"
    fallback = True
    on_this_machine = True
    agent_scope = "node"      # local nodes share this machine: each agent counts only its node's processes
    agent_leds = "virtual"

    def make_nodes(self, inventory: Inventory, *, connect_timeout: float,
                   sandbox: Path | None = None) -> dict[str, LocalNode]:
        root = (sandbox or default_sandbox_root()) / inventory.name
        return {s.name: LocalNode(s, root=root / s.name) for s in inventory}


LOCAL = LocalBackend()
