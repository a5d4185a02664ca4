"""A lab worker's boot mounts its NFS share again, from its own fstab line (run from the host, as a script).

A board's boot mounts what its ``/etc/fstab`` asks for; a worker's line for the
cluster's shared folder names the primary's NFS export. This lab's kernel has
no NFS client, so the worker's "mount" is a bind of the primary's export made
from the host (:mod:`.share`). The supervisor of each node starts this script
beside every boot of the node:

``python bootmounts.py NODE_DIR SUPERVISOR_PID``

It waits until the node's boot has mounted its own file systems and started its
services (``/run/clusterkit/booted`` inside it), reads the node's fstab, and for
each ``nfs``/``nfs4`` line waits until the server node named there runs and its
NFS server listens (port 2049 in its network namespace), then binds the
export's directory at the mount point (:mod:`.bindns`). A server that does not
come up within :data:`WAIT` seconds is reported in the node's console log, the
boot goes on (``nofail``, as on a board) and the mount is made once the server
serves, for as long as this boot lasts (as an automount would). When its mounts
are settled it writes ``NODE_DIR/mounts.done`` (``lab up`` waits for it, with a
bound). Standard library only: it runs from the lab's own directory.
"""

import json
import os
import subprocess
import sys
import time

#: Seconds a worker waits for its NFS server before it gives up on the mount.
WAIT = 90.0
NFS_PORT = 2049
DONE = "mounts.done"


def say(text: str) -> None:
    print(f"boot: {text}", flush=True)


def children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(p) for p in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return [text[text.index("(") + 1:text.rindex(")")]] + text[text.rindex(")") + 2:].split()


def init_of(supervisor: int) -> int | None:
    """The node's PID 1 (host pid): the child of the supervisor's ``unshare``."""
    for child in children(supervisor):
        fields = stat(child)
        if fields and fields[0] == "unshare":
            kids = children(child)
            if kids:
                return kids[0]
    return None


def booted(init: int) -> bool:
    return os.path.exists(f"/proc/{init}/root/run/clusterkit/booted")


def nfs_lines(init: int) -> list[tuple[str, str, str]]:
    """(server, export, mount point) of every nfs/nfs4 line in the node's fstab."""
    try:
        with open(f"/proc/{init}/root/etc/fstab") as f:
            text = f.read()
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 3 and fields[2] in ("nfs", "nfs4") and ":" in fields[0]:
            server, _, export = fields[0].partition(":")
            out.append((server, export, fields[1]))
    return out


def server_init(lab_dir: str, server: str) -> tuple[str, int | None]:
    """The lab node that ``server`` (a node's name or address) names, and its PID 1 when it runs."""
    try:
        with open(os.path.join(lab_dir, "lab.json")) as f:
            nodes = json.load(f)["nodes"]
    except (OSError, ValueError, KeyError):
        return server, None
    for n in nodes:
        if server in (n["name"], n["address"], n["host"]):
            sup = n.get("supervisor")
            fields = stat(sup["pid"]) if sup else None
            if not fields or int(fields[20]) != sup["start"]:
                return n["name"], None
            return n["name"], init_of(sup["pid"])
    return server, None


def listens(init: int, port: int) -> bool:
    """Something listens on TCP ``port`` in the network namespace of process ``init``."""
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{init}/net/{table}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def mounted(init: int, path: str) -> bool:
    return top_mount(init, path) is not None


def top_mount(init: int, path: str) -> tuple[str, str] | None:
    """(device, root within it) of the uppermost mount at ``path`` in the mount namespace of ``init``."""
    found = None
    try:
        with open(f"/proc/{init}/mountinfo") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 4 and fields[4] == path:
                    found = (fields[2], fields[3])
    except OSError:
        return None
    return found


def bound_from(init: int, target: str, src: int, export: str) -> bool:
    """Whether ``target`` in ``init``'s namespace is already the server's ``export``: the same folder on the
    same device on top (a lab node's ``/home`` is a mount of its own before the primary's is bound over it)."""
    theirs = top_mount(src, export)
    if theirs is None:      # the export is no mount point of its own on the server: any mount here is the bind
        return mounted(init, target)
    return top_mount(init, target) == theirs


def main(argv: list[str]) -> int:
    node_dir, supervisor = argv[0], int(argv[1])
    lab_dir = os.path.dirname(os.path.dirname(os.path.abspath(node_dir)))
    done = os.path.join(node_dir, DONE)
    if os.path.exists(done):
        os.unlink(done)
    written = []

    def finish(problems: int) -> None:
        """Tell ``lab up`` this boot's mounts are settled (once), even while a late server is still awaited."""
        if not written:
            with open(done, "w") as f:
                f.write(f"{problems}\n")
            written.append(problems)

    problems = mount_all(node_dir, supervisor, lab_dir, finish)
    finish(problems)
    return 0 if problems == 0 else 1


def mount_all(node_dir: str, supervisor: int, lab_dir: str, finish=lambda problems: None) -> int:
    """Make the node's NFS mounts; returns how many could not be made.

    A server that is not up within :data:`WAIT` seconds is reported (``finish``
    is called, so ``lab up`` does not wait for it), then awaited for as long as
    this boot of the node lasts, as an automount would mount it on first use.
    """
    deadline = time.monotonic() + WAIT
    init = None
    while time.monotonic() < deadline:
        init = init_of(supervisor)
        if init is not None and booted(init):
            break
        time.sleep(0.1)
    else:
        say(f"the node did not finish booting within {WAIT:.0f} s; its NFS mounts were not made")
        return 1
    problems = 0
    bindns = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bindns.py")
    for server, export, target in nfs_lines(init):
        said: set[str] = set()
        while True:
            src = wait_for_server(lab_dir, server, export, target, init=init, supervisor=supervisor,
                                  deadline=deadline, said=said, late=lambda: finish(problems + 1))
            if src is None:                          # this boot is over (powered off or rebooted)
                return problems + 1
            if src == init or bound_from(init, target, src, export):
                break
            r = subprocess.run([sys.executable, bindns, f"/proc/{src}/ns/mnt", export, f"/proc/{init}/ns/mnt",
                                target], capture_output=True, text=True, timeout=30)
            if r.returncode == 0:
                say(f"mounted {server}:{export} at {target} (the lab binds the primary's export: no NFS client here)")
                break
            if server_init(lab_dir, server)[1] == src:   # the server still runs that boot: the bind itself failed
                say(f"could not mount {server}:{export} at {target}: {(r.stderr.strip() or f'rc {r.returncode}')}")
                problems += 1
                break
            # The server rebooted between the look and the bind: wait for it again, as an automount would.
    return problems


def wait_for_server(lab_dir: str, server: str, export: str, target: str, *, init: int, supervisor: int,
                    deadline: float, said: set[str], late) -> int | None:
    """PID 1 of ``server`` once it has booted and serves NFS; None when this node's boot ends first.

    ``said`` holds what was already said about this mount (kept across a server's reboot); ``late`` is
    called once the server is not up by ``deadline``.
    """
    while True:
        name, src = server_init(lab_dir, server)
        if src is not None and booted(src) and listens(src, NFS_PORT):
            return src
        if init_of(supervisor) != init:
            return None
        if "waiting" not in said:
            say(f"waiting for the NFS server {name} to mount {server}:{export} at {target}")
            said.add("waiting")
        if "late" not in said and time.monotonic() >= deadline:
            say(f"{name}'s NFS server is not up after {WAIT:.0f} s: {target} stays unmounted until it "
                "serves (nofail: the boot goes on, as on a board)")
            late()
            said.add("late")
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
