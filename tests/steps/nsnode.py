"""A STAND-IN for the lab's transport only, until the SSH backend lands: lab nodes reached with nsenter.

Every command really runs inside the lab node (all its namespaces, as its login user through
runuser, or as root); only the way in differs from the lab backend's SSH. Files are written
atomically inside the node with a backup, like Node.write_file on the SSH backend.
"""

from __future__ import annotations

import shlex
import subprocess

from clusterkit.backends.base import BACKUP_SUFFIX, ORIGINAL_SUFFIX, Node
from clusterkit.cluster import Cluster
from clusterkit.results import NodeResult


class NsNode(Node):
    backend = "lab"

    def __init__(self, spec, *, lab):
        super().__init__(spec)
        self.lab = lab

    def _exec(self, script: str, *, stdin=None, timeout=None, user=None) -> NodeResult:
        pid = self.lab.pid(self.name)
        if pid is None:
            return NodeResult.failure(self.name, "unreachable", "the node is off")
        argv = ["nsenter", "-t", str(pid), "-a", "--"]
        argv += (["runuser", "-u", user, "--", "sh", "-c", script] if user else ["sh", "-c", script])
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return NodeResult.failure(self.name, "timeout", f"no answer within {timeout} s", command=script)
        return NodeResult.from_exit(self.name, p.returncode, p.stdout, p.stderr, 0.0, command=script)

    def run(self, command, *, timeout=None, stdin=None):
        return self._exec(f"cd ~ && {command}", stdin=stdin, timeout=timeout, user=self.spec.user or "pi")

    def sudo(self, command, *, timeout=None, stdin=None):
        return self._exec(command, stdin=stdin, timeout=timeout)

    def _path(self, path: str) -> str:
        return path if path.startswith("/") else f"~{self.spec.user or 'pi'}/{path}"

    def read_file(self, path, *, privileged=False):
        p = self._path(path)
        r = subprocess.run(["nsenter", "-t", str(self.lab.pid(self.name)), "-a", "--", "sh", "-c",
                            f"test -f {p} && cat {p}"], capture_output=True, timeout=30)
        return r.stdout if r.returncode == 0 else None

    def write_file(self, path, data, *, mode=None, privileged=False, backup=True):
        p = self._path(path)
        owner = "" if privileged or path.startswith("/") else f"chown {self.spec.user or 'pi'}: \"$t\"; "
        script = (f"f={p}; d=$(dirname \"$f\"); mkdir -p \"$d\"; t=\"$d/.$(basename \"$f\").clusterkit-tmp\"; "
                  f"cat > \"$t\"; {owner}"
                  + (f"chmod {mode:o} \"$t\"; " if mode is not None else
                     "if [ -e \"$f\" ]; then chmod --reference=\"$f\" \"$t\"; else chmod 644 \"$t\"; fi; ")
                  + (f"if [ -e \"$f\" ]; then [ -e \"$f{ORIGINAL_SUFFIX}\" ] || cp -p \"$f\" \"$f{ORIGINAL_SUFFIX}\"; "
                     f"cp -p \"$f\" \"$f{BACKUP_SUFFIX}\"; fi; " if backup else "")
                  + "mv -f \"$t\" \"$f\"")
        r = subprocess.run(["nsenter", "-t", str(self.lab.pid(self.name)), "-a", "--", "sh", "-c", script],
                           input=data, capture_output=True, timeout=30)
        if r.returncode != 0:
            raise OSError(r.stderr.decode())
        return path + BACKUP_SUFFIX if backup else None

    def put(self, local, remote, *, mode=None):
        self.write_file(remote, open(local, "rb").read(), mode=mode, backup=False)

    def get(self, remote, local):
        open(local, "wb").write(self.read_file(remote))


def lab_cluster(lab) -> Cluster:
    """A Cluster on the lab's nodes through :class:`NsNode` (the stand-in transport)."""
    inv = lab.inventory()
    return Cluster(inv, {s.name: NsNode(s, lab=lab) for s in inv}, backend="lab")


def wired(lab) -> None:
    """Stand-in for notebooks 01-02 where the SSH backend is needed: one UID for pi, cluster addresses, /etc/hosts."""
    hosts = "".join(f"{b.address}\t{n}\n" for n, b in lab.boards.items())
    for n, b in lab.boards.items():
        lab.exec(n, f"ip addr replace {b.address}/{lab.network.split('/')[1]} dev eth0; "
                    "id -u pi | grep -qx 1000 || { usermod -u 1000 pi && groupmod -g 1000 pi; }; "
                    f"printf %s {shlex.quote(hosts)} >> /etc/hosts")
