"""Notebook 03: a key pair for the user, passwordless SSH between all nodes, pinned host keys.

The workbook host makes one ed25519 key pair for the user (kept in its state
directory, never shown); the public key is authorised on every node (never
twice), and the pair itself goes to every node's ``~/.ssh`` so every node
reaches every other without a password, as MPI needs. Every node's host keys
are collected into one known-hosts file that every node trusts
(``/etc/ssh/ssh_known_hosts``) and the workbook host keeps a copy, so no
first-contact prompt ever hangs a command.

Password logins are turned off (a drop-in, checked with ``sshd -t`` before
sshd reloads) in a second phase, only on nodes where key login was verified;
a node where it fails keeps its password login and is reported.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..validate import KEY_TYPES, split_public_key
from .accounts import NAME
from .base import Command, FileChange, NodePlan, Reader, Step, StepError
from .render import matrix

if TYPE_CHECKING:
    from ..cluster import Cluster

DROP_IN = "/etc/ssh/sshd_config.d/50-clusterkit.conf"
KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
DROP_IN_TEXT = ("# clusterkit: key logins only, now that key login was verified on this node.\n"
                "# Remove this file and reload sshd to allow passwords again.\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\n")
ONLINE_SOURCES = ("gh:", "lp:")

LoginCheck = Callable[[str], bool]


@dataclass(frozen=True)
class PublicKey:
    """One OpenSSH public key: its type, base64 blob and comment."""

    type: str
    blob: str
    comment: str = ""

    @property
    def line(self) -> str:
        return f"{self.type} {self.blob}" + (f" {self.comment}" if self.comment else "")


def parse_public_key(text: str, *, node: str | None = None, fld: str = "key") -> PublicKey:
    """Check one ``TYPE BASE64 [COMMENT]`` line (:func:`clusterkit.validate.split_public_key`)."""
    try:
        return PublicKey(*split_public_key(text))
    except ValueError as e:
        raise StepError(str(e), node=node, field=fld) from None


def state_dir(cluster: Cluster) -> Path:
    """Where the workbook host keeps this cluster's keys (the SSH backend logs in with them)."""
    from ..backends.ssh import state_dir as ssh_state_dir
    return ssh_state_dir(cluster.inventory)


def key_pair(path: Path, *, comment: str) -> PublicKey:
    """An ed25519 key pair at ``path`` (made once, private file 600); returns the public key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        r = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                           capture_output=True, text=True, check=False)
        if r.returncode != 0:
            raise StepError(f"ssh-keygen failed: {r.stderr.strip()}", field="key")
    return parse_public_key(path.with_name(path.name + ".pub").read_text(), fld="key")


def import_key(source: str, *, online: bool = False) -> list[PublicKey]:
    """A colleague's public keys from a pasted line, a ``.pub`` file, or (online only) ``gh:USER`` / ``lp:USER``."""
    if source.startswith(ONLINE_SOURCES):
        if not online:
            raise StepError(f"looking up {source} needs the internet (ssh-import-id asks GitHub or Launchpad); "
                            "this cluster is offline: paste the key or give its .pub file", field="import_keys")
        tool = shutil.which("ssh-import-id")
        if tool is None:
            raise StepError("ssh-import-id is not installed on the workbook host", field="import_keys")
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "keys"
            r = subprocess.run([tool, "-o", str(out), source], capture_output=True, text=True, timeout=60, check=False)
            if r.returncode != 0 or not out.exists():
                raise StepError(f"ssh-import-id {source} failed: {r.stderr.strip()}", field="import_keys")
            text = out.read_text()
        return [parse_public_key(ln, fld="import_keys") for ln in text.splitlines() if ln.strip() and ln[0] != "#"]
    if source.split(None, 1)[0] in KEY_TYPES:
        return [parse_public_key(source, fld="import_keys")]
    path = Path(source).expanduser()
    if not path.is_file():
        raise StepError(f"{source!r} is neither a public key nor a file", field="import_keys")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return [parse_public_key(ln, fld="import_keys") for ln in lines]


class Keys(Step):
    """Keys for ``user``: authorised everywhere, the pair on every node, pinned host keys, then no passwords.

    ``import_keys``: colleagues' public keys (pasted lines, ``.pub`` files, or
    ``gh:USER``/``lp:USER`` when ``online``). ``disable_passwords``: turn
    password logins off where key login works. ``try_login(node)`` says whether
    key login works on a node (default: ``ssh`` with the key from the node itself).
    """

    title = "keys"
    phases = 2

    def __init__(self, cluster: Cluster, *, user: str, import_keys: tuple[str, ...] = (),
                 disable_passwords: bool = True, online: bool = False, try_login: LoginCheck | None = None, nodes=None):
        super().__init__(cluster, nodes=nodes)
        self.user = user
        self.import_keys = tuple(import_keys)
        self.disable_passwords = disable_passwords
        self.online = online
        self.try_login = try_login
        self.private = state_dir(cluster) / f"id_ed25519_{self.user}"
        self._key: PublicKey | None = None
        self._extra: list[PublicKey] = []
        self.login_failed: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<Keys for {self.user} on {self.where}>"

    @property
    def known_hosts(self) -> Path:
        """The workbook host's copy of the cluster's host keys."""
        return state_dir(self.cluster) / "known_hosts"

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        if not isinstance(self.user, str) or not NAME.match(self.user):
            raise StepError(f"{self.user!r} is not a valid user name", node=self.where, field="user")
        extra = []
        for source in self.import_keys:
            try:
                extra += import_key(source, online=self.online)
            except StepError as e:
                raise StepError(e.message, node=self.where, field="import_keys") from None
        self._extra = extra
        self._key = key_pair(self.private, comment=f"{self.user}@{self.cluster.inventory.name}")

    # ------------------------------------------------------------ reading
    def read(self, node, reader: Reader) -> dict:
        passwd = reader.text("/etc/passwd") or ""
        row = next((ln.split(":") for ln in passwd.splitlines() if ln.split(":")[0] == self.user), None)
        state = {"user": row}
        if row is None:
            return state
        ssh = row[5].rstrip("/") + "/.ssh"
        for name in ("authorized_keys", "id_ed25519", "id_ed25519.pub"):
            state[name] = reader(f"{ssh}/{name}")
        state["host_keys"] = {}
        for name in reader.listdir("/etc/ssh"):
            if name.startswith("ssh_host_") and name.endswith("_key.pub"):
                state["host_keys"][name] = reader.text(f"/etc/ssh/{name}") or ""
        state["known_hosts"] = reader(KNOWN_HOSTS)
        state["drop_in"] = reader(DROP_IN)
        return state

    def check(self, states: dict) -> None:
        for n, s in states.items():
            if s["user"] is None:
                raise StepError(f"user {self.user!r} does not exist on this node (notebook 01 makes it)",
                                node=n, field="user")
            for name, text in s["host_keys"].items():
                parse_public_key(text.split("\n")[0], node=n, fld=f"/etc/ssh/{name}")

    # ------------------------------------------------------------ planning
    def known_hosts_text(self, states: dict) -> str:
        lines = ["# clusterkit: the host keys of every node of the cluster, collected by the keys step"]
        for n in self.cluster.inventory.nodes:
            if n not in states:
                continue
            spec = self.cluster.inventory[n]
            names = ",".join(dict.fromkeys(x for x in (n, spec.address, spec.host) if x))
            for name in sorted(states[n]["host_keys"]):
                key = parse_public_key(states[n]["host_keys"][name].split("\n")[0], node=n, fld=name)
                lines.append(f"{names} {key.type} {key.blob}")
        return "\n".join(lines) + "\n"

    def node_plan(self, node, s: dict, states) -> NodePlan:
        plan = NodePlan(node.name)
        _, _, uid, gid, _, home, *_ = s["user"]
        ssh = home.rstrip("/") + "/.ssh"
        private = self.private.read_bytes()
        public = self.private.with_name(self.private.name + ".pub").read_bytes()
        old = s["authorized_keys"]
        text = (old or b"").decode("utf-8", "replace")
        for key in [self._key] + self._extra:
            if key.blob not in text:
                text = (text if not text or text.endswith("\n") else text + "\n") + key.line + "\n"
        files = [FileChange(f"{ssh}/authorized_keys", old, text.encode(), mode=0o600, why="keys that may log in"),
                 FileChange(f"{ssh}/id_ed25519", s["id_ed25519"], private, mode=0o600, secret=True,
                            why="the user's key, so this node reaches the others (MPI)"),
                 FileChange(f"{ssh}/id_ed25519.pub", s["id_ed25519.pub"], public, mode=0o644, why="its public half"),
                 FileChange(KNOWN_HOSTS, s["known_hosts"], self.known_hosts_text(states).encode(), mode=0o644,
                            why="every node's host key, pinned")]
        changes = [f for f in files if f.old != f.new]
        if any(f.path.startswith(ssh) for f in changes):
            plan.actions.append(Command(f"install -d -m 700 -o {uid} -g {gid} {shlex.quote(ssh)}",
                                        "~/.ssh, 700, the user's own"))
        plan.actions += changes
        if any(f.path.startswith(ssh) for f in changes):
            plan.actions.append(Command(f"chown {uid}:{gid} " + " ".join(shlex.quote(f.path) for f in changes
                                                                          if f.path.startswith(ssh)),
                                        "the user's own files (600)"))
        if self.disable_passwords and s["drop_in"] != DROP_IN_TEXT.encode():
            _check_sshd(DROP_IN_TEXT, node.name)
            plan.actions += [
                FileChange(DROP_IN, s["drop_in"], DROP_IN_TEXT.encode(), mode=0o644, phase=1,
                           why="password logins off (only once key login works here)"),
                Command("sshd -t", "check sshd's whole configuration before reloading", phase=1),
                Command("systemctl reload ssh 2>/dev/null || kill -HUP $(cat /run/sshd.pid)",
                        "sshd rereads its configuration; open sessions stay", phase=1)]
        return plan

    # ------------------------------------------------------------ applying
    def gate(self, phase: int, plan, nodes: list[str], outcomes) -> dict[str, str | None]:
        """Password logins go only where key login was just verified."""
        verdict = {}
        for n in nodes:
            node = self.cluster[n]
            why = None if self.try_login else node.platform.why_no_cluster_network()
            if why:
                outcomes[n].skipped.append(f"trying a key login ({why}); its files show what a verified node gets")
                verdict[n] = None
                continue
            ok = (self.try_login or self._key_login)(n)
            verdict[n] = None if ok else "key login failed here, so password login stays on"
            if not ok:
                self.login_failed[n] = verdict[n]
        return verdict

    def _key_login(self, n: str) -> bool:
        host = self.cluster.inventory[n].host
        r = self.cluster[n].sudo(
            f"runuser -u {self.user} -- ssh -o BatchMode=yes -o PasswordAuthentication=no "
            f"-o StrictHostKeyChecking=yes -o ConnectTimeout=5 -i ~{self.user}/.ssh/id_ed25519 "
            f"{self.user}@{shlex.quote(host)} true", timeout=30)
        return r.ok

    def logins(self):
        """Passwordless SSH from every node to every other, as the user (a table), the way MPI starts its ranks."""
        targets = {n: self.cluster.inventory[n].address or n for n in self.names}
        return matrix(self.cluster, self.names, targets,
                      'ssh -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=yes "$T" true',
                      title=f"ssh as {self.user}, no password", as_user=self.user)

    def apply(self, plan=None, *, progress: bool = True):
        result = super().apply(plan, progress=progress)
        self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
        states = {n: {"host_keys": _host_keys(self.cluster[n])} for n in self.names}
        self.known_hosts.write_text(self.known_hosts_text(states))
        return result


def rescue_key(cluster: Cluster) -> str:
    """A key pair for root on the workbook host (made once; the private half never leaves it); its public line.

    Give it to :class:`~clusterkit.steps.Users` as ``root_key``: root's way in that needs no password.
    """
    return key_pair(state_dir(cluster) / "id_ed25519_root", comment=f"root-rescue@{cluster.inventory.name}").line


def _host_keys(node) -> dict[str, str]:
    reader = Reader(node)
    return {name: reader.text(f"/etc/ssh/{name}") or "" for name in reader.listdir("/etc/ssh")
            if name.startswith("ssh_host_") and name.endswith("_key.pub")}


def _check_sshd(text: str, node: str) -> None:
    """Parse a drop-in with this host's sshd (``sshd -t``, a throwaway host key) before any node gets it."""
    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
    if sshd is None:
        return
    with tempfile.TemporaryDirectory(prefix="clusterkit-sshd-") as d:
        key, conf = Path(d) / "hostkey", Path(d) / "sshd_config"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], capture_output=True, check=False)
        conf.write_text(text)
        r = subprocess.run([sshd, "-t", "-f", str(conf), "-o", f"HostKey={key}"], capture_output=True, text=True,
                           check=False)
    errors = [ln for ln in r.stderr.splitlines() if "privilege separation directory" not in ln]
    if r.returncode != 0 and errors:
        raise StepError(f"sshd -t rejects the drop-in: {errors[0]}", node=node, field=DROP_IN)
