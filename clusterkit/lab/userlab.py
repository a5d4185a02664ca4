"""A lab started by a normal user (``clusterkit lab up``, no sudo): the user-namespace kind with no host side.

Same kind as root's ``lab up`` (the default) (``lab.json`` says ``"kind": "userns"``; :mod:`.rootless` hands a normal
user's build, lab and teardown to this module), but nothing of it is on the host's side:

- one user namespace per lab, 0 -> the caller's uid and 1..65535 -> its ``/etc/subuid`` and ``/etc/subgid``
  ranges (``newuidmap``/``newgidmap``; :func:`userns.for_caller`, :func:`userns.hold`);
- the process holding it (the "switch") has the lab's network namespace: both bridges with the addresses the
  workbook has on the host side of a root lab, and the venue router (dnsmasq) on the uplink bridge;
- each node's network namespace is made in the lab's user namespace and held by a process of its own (so it
  keeps its links and addresses across a power cycle), its veths made from inside the switch into it by pid;
  the node builds its own root (:mod:`.rootless_node`);
- the lab's folder is the user's own (:data:`clusterkit.lab.base.LABS_DIR`, 0700); its node folders are laid
  out from inside the namespace (owners in the lab's range) and removed from inside it by ``lab down``.

The workbook reaches the lab by living on its network: ``clusterkit lab enter --name L -- CMD`` runs CMD in the
switch's network namespace, as the user itself (a user namespace nested in the lab's maps the user's own uid
back, so ssh, files and ``$HOME`` are the user's). Unix sockets cross network namespaces by path, so a kernel
started that way with the ipc transport talks to a JupyterLab outside (:func:`write_kernelspec`), and SSH, the
ipyparallel controller, mpiexec and the dashboard's agents work as on a root lab.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import ClusterkitError
from ..firstboot.password import hash_password
from . import build, dhcp, net, node, procs, rootless_node, userns
from .ns import NamespaceLab
from .record import Board, Record, write_inventory

#: The record of the lab's user namespace (the holder, its maps, its namespaces), as the userns kind's.
HOLDER_FILE = "bin/userns.json"

#: A node's supervisor: root of the lab's user namespace in the node's network namespace (:func:`_pin`), it
#: waits for the node's links, then boots the node as the userns kind's does.
SUPERVISE = node.supervise('''unshare --mount --uts --ipc --pid --cgroup --fork --kill-child --mount-proc \\
        --propagation private /bin/sh "$L/boot-userns.sh" "$S" "$L"''',
                           what="one node of a normal user's lab (root of the lab's user namespace, in the node's "
                                "network namespace)", before="""\
i=0
until ip link show eth0 >/dev/null 2>&1 && ip link show wlan0 >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -le 1000 ] || { echo "boot: the node's links did not come"; exit 1; }
    sleep 0.01
done
""")


def is_user_lab(directory: Path) -> bool:
    """Whether the lab in ``directory`` is a normal user's (no host side)."""
    return bool(_info(directory).get("switch"))


def _info(directory: Path) -> dict:
    try:
        return json.loads((directory / HOLDER_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _ns(pid: int, what: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/{what}")
    except OSError:
        return None


def _holder(directory: Path) -> userns.Holder | None:
    proc = procs.Proc.from_dict(_info(directory).get("holder"))
    return userns.Holder(proc) if proc is not None and procs.alive(proc) else None


# ------------------------------------------------------------------ the lab

def lab_class():
    """The class that drives a normal user's lab (what :mod:`.rootless`'s kind opens for one)."""
    return UserLab


class UserLab(NamespaceLab):
    """A normal user's lab: its network is the switch's network namespace, reached from inside it."""

    kind = "userns"

    def holder(self) -> userns.Holder:
        held = _holder(self.dir)
        if held is None:
            raise ClusterkitError(f"lab {self.name}'s user namespace is gone; `clusterkit lab down --name "
                                  f"{self.name}` and up again", field="userns")
        return held

    def start_node(self, name: str) -> None:
        board = self._board(name)
        if self._on(board):
            return
        node.stop(board.supervisor)
        holder = self.holder()
        pins = _pins(self.dir)
        pin = pins.get(name)
        if pin is None or not procs.alive(pin):   # its network namespace is gone: a new one, with its links
            pin = _pin(holder)
            _link(holder, self.names, self.slot, [(board.index, pin)])
            _save_pins(self.dir, {**pins, name: pin})
        self._set_supervisor(name, _start(self.node_dir(name), self.dir / "bin", pin))

    def exec(self, name: str, command: str, *, input: str | None = None,
             timeout: float = 30.0) -> subprocess.CompletedProcess:
        pid = self.pid(name)
        if pid is None:
            raise ClusterkitError("the node is off; `clusterkit lab up` starts it", node=name)
        # Not ``-a``: the node shares the host's time namespace, which only host root may enter.
        return subprocess.run(["nsenter", "-t", str(pid), "--user", "--mount", "--uts", "--ipc", "--net", "--pid",
                               "--cgroup", "--", "/bin/sh", "-c", command],
                              input=input, capture_output=True, text=True, timeout=timeout)

    def wait_booted(self, names: list[str], *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        left = list(names)
        while left:
            left = [n for n in left if procs.alive(self.boards[n].supervisor)
                    and not _answers(self.pid(n), self.boards[n].host)]
            if not left:
                break
            if time.monotonic() > deadline:
                tail = ""
                try:
                    tail = " | ".join((self.node_dir(left[0]) / "console.log").read_text(
                        errors="replace").strip().splitlines()[-3:])
                except OSError:
                    pass
                raise ClusterkitError(f"sshd did not answer (waited up to {timeout:.0f} s) on "
                                      f"{', '.join(left)}" + (f" (console of {left[0]}: {tail})" if tail else ""),
                                      field="lab")
            time.sleep(0.05)
        while time.monotonic() < deadline and not all(
                (self.node_dir(n) / node.MOUNTS_DONE).exists() or not procs.alive(self.boards[n].supervisor)
                for n in names):
            time.sleep(0.1)

    def _sshd_answers(self, pid: int, host: str) -> bool:
        """As a root lab's, but read from the node's ``/proc/PID/net``: this process is not on the lab's network
        (a connection attempt would go out by the host's default route)."""
        return _answers(pid, host)

    def describe(self) -> str:
        return "namespaces in a user namespace, no host side: `clusterkit lab enter` reaches them"

    @property
    def owner(self) -> str:
        return owner_of(self.dir)


def owner_of(directory: Path) -> str:
    """Who owns the lab in ``directory`` (its folder's owner)."""
    import pwd
    try:
        uid = directory.stat().st_uid
    except OSError:
        return "?"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _answers(pid: int | None, host: str) -> bool:
    """The node (PID 1 ``pid``) has its DHCP address ``host`` and its sshd listens on port 22, read from
    ``/proc/PID/net`` (the node's network namespace is not this process's)."""
    if pid is None:
        return False
    try:
        tcp = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
        trie = Path(f"/proc/{pid}/net/fib_trie").read_text().splitlines()
    except OSError:
        return False
    listens = any(f[1].endswith(":0016") and f[3] == "0A" for f in (line.split() for line in tcp) if len(f) > 3)
    has = any(line.strip() == f"|-- {host}" and i + 1 < len(trie) and "/32 host LOCAL" in trie[i + 1]
              for i, line in enumerate(trie))
    return listens and has


# ------------------------------------------------------------------ making it

def build_lab(new) -> None:
    """Make a normal user's lab ``new.name`` in ``new.labs_dir`` (a :class:`~.kinds.NewLab`); on any failure,
    remove what was made."""
    ids = userns.for_caller()
    for tool in ("newuidmap", "newgidmap"):
        if shutil.which(tool) is None:
            raise ClusterkitError(f"{tool} is missing: as root, apt-get install uidmap", field="userns")
    names = net.LabNames(new.name)
    cluster, uplink, slot = build.place(new.name, network=new.network, other_labs=new.other_labs)
    directory = new.labs_dir / new.name
    directory.mkdir(mode=0o700)
    holder = None
    try:
        holder = userns.hold(ids)
        _make(directory, holder=holder, ids=ids, names=names, new=new, cluster=cluster, uplink=uplink, slot=slot)
    except BaseException:
        teardown(new.name, lab=None, labs_dir=new.labs_dir, holder=holder)
        raise


def _make(directory: Path, *, holder: userns.Holder, ids: userns.LabIds, names: net.LabNames, new,
          cluster: ipaddress.IPv4Network, uplink: ipaddress.IPv4Network, slot: int) -> None:
    bin_dir = directory / "bin"
    rootless_node.write_scripts(bin_dir)
    (bin_dir / "supervise-user.sh").write_text(SUPERVISE)
    (bin_dir / HOLDER_FILE.split("/")[-1]).write_text(json.dumps({
        "holder": holder.proc.to_dict(), "uids": ids.uids.text(), "gids": ids.gids.text(), "switch": True,
        "owner": ids.owner, "userns": _ns(holder.pid, "user"), "netns": _ns(holder.pid, "net")}))
    (directory / "nodes").mkdir(mode=0o700)
    binder = _spawn_binder(directory, holder)

    hash_ = hash_password(new.password)
    hosts = list(cluster.hosts())
    boards, keys, jobs, reservations = [], {}, [], {}
    for i in range(new.count):
        node_name = f"{new.name}{i}"
        key = node.HostKey.generate(f"root@{new.image.hostname}")
        uid = new.image.uid_of(i, new.count)
        jobs.append((str(directory / "nodes" / node_name), uid, hash_, key, new.image))
        host = str(net.uplink_address(uplink, net.FIRST_NODE_HOST + i))
        boards.append(Board(name=node_name, index=i, uid=uid, host=host, address=str(hosts[i])))
        keys[node_name] = key
        reservations[net.mac(slot, i, build.WIFI)] = host
    # The image layer and the nodes' folders at once: two processes in the namespace, neither needs the other.
    with ThreadPoolExecutor(max_workers=2) as pool:
        image = pool.submit(rootless_node.make_image, directory / "image", holder=holder,
                            base=(os.getuid(), os.getgid()), reader="")
        _prepare_inside(holder, jobs)
        image.result()

    # The switch: both bridges, the addresses the workbook has on a root lab's host side, the router's.
    router = net.uplink_address(uplink, net.ROUTER_HOST)
    lines = [f"link add {b} type bridge forward_delay 0 stp_state 0" for b in (names.cluster_bridge,
                                                                              names.uplink_bridge)]
    lines += [f"link set {b} up" for b in (names.cluster_bridge, names.uplink_bridge)] + ["link set lo up"]
    lines += [f"addr add {hosts[-1]}/{cluster.prefixlen} dev {names.cluster_bridge}",
              f"addr add {net.uplink_address(uplink, net.WORKBOOK_HOST)}/{uplink.prefixlen} dev {names.uplink_bridge}",
              f"addr add {router}/{uplink.prefixlen} dev {names.uplink_bridge}"]
    _switch(holder, lines)
    with open(directory / "router.log", "ab") as log:
        router_proc = procs.spawn(userns.enter(holder) + dhcp.dnsmasq(
            uplink=uplink, reservations=reservations, state=directory, interface=names.uplink_bridge), log=log)
    pins = {}
    for b in boards:
        pins[b.name] = _pin(holder)
        _save_pins(directory, pins)
    _link(holder, names, slot, [(b.index, pins[b.name]) for b in boards])
    sups = {b.name: _start(directory / "nodes" / b.name, bin_dir, pins[b.name]) for b in boards}
    boards = [Board(**{**b.__dict__, "supervisor": sups[b.name]}) for b in boards]
    _wait_binder(directory, binder)
    Record(new.name, slot, str(cluster), str(uplink), router_proc, {b.name: b for b in boards},
           kind="userns").save(directory)
    known = "".join(f"{b.host},{b.address} {' '.join(keys[b.name].public.split()[:2])}\n" for b in boards)
    (directory / "known_hosts").write_text(known)
    write_inventory(directory / "inventory.yaml", {
        "name": new.name, "nodes": f"{new.name}[0-{new.count - 1}]" if new.count > 1 else f"{new.name}0",
        "primary": f"{new.name}0", "user": new.image.user, "network": str(cluster), "backend": "lab",
        "password": new.password, "python": build.node_python(),
        "hosts": {b.name: {"host": b.host} for b in boards}})


def _switch(holder: userns.Holder, lines: list[str]) -> None:
    """Run ``ip -batch`` lines in the switch (the lab's network namespace, as the namespace's root)."""
    # IPv6 stays off the lab's links, as on a root lab's host side.
    script = "for f in all default; do echo 1 > /proc/sys/net/ipv6/conf/$f/disable_ipv6; done; exec ip -batch -"
    r = subprocess.run(userns.enter(holder) + ["sh", "-c", script], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise ClusterkitError(f"setting up the lab's links failed: {r.stderr.strip()}", field="lab")


#: Each node's network namespace, held by a process of its own (a "pin") for as long as the lab runs: a node
#: powered off and on keeps its links and addresses (notebook 02's static one), as a root lab's named one does.
PINS = "bin/pins.json"


def _pins(directory: Path) -> dict[str, procs.Proc]:
    try:
        data = json.loads((directory / PINS).read_text())
    except (OSError, ValueError):
        return {}
    return {name: procs.Proc.from_dict(d) for name, d in data.items() if d}


def _save_pins(directory: Path, pins: dict[str, procs.Proc]) -> None:
    (directory / PINS).write_text(json.dumps({name: p.to_dict() for name, p in pins.items()}))


def _pin(holder: userns.Holder) -> procs.Proc:
    """A new network namespace of the lab's user namespace, held by a ``sleep`` (a node's, before its links)."""
    pin = procs.spawn(userns.enter(holder, net=False) + ["unshare", "--net", "--", "sleep", "infinity"])
    deadline = time.monotonic() + 10
    while procs.comm(pin.pid) != "sleep":   # unshare execs sleep once the namespace is made
        if not procs.alive(pin) or time.monotonic() > deadline:
            procs.kill(pin)
            raise ClusterkitError("a node's network namespace did not come (unshare --net)", field="lab")
        time.sleep(0.005)
    return procs.proc_of(pin.pid) or pin


def _link(holder: userns.Holder, names: net.LabNames, slot: int, nodes: list[tuple[int, procs.Proc]]) -> None:
    """Each node's two veths, from the switch's bridges into the node's network namespace (its pin's)."""
    lines = []
    for index, sup in nodes:
        lines += [
            f"link add {names.wired_veth(index)} type veth peer name eth0 address "
            f"{net.mac(slot, index, build.WIRED)} netns {sup.pid}",
            f"link add {names.wifi_veth(index)} type veth peer name wlan0 address "
            f"{net.mac(slot, index, build.WIFI)} netns {sup.pid}",
            f"link set {names.wired_veth(index)} master {names.cluster_bridge} up",
            f"link set {names.wifi_veth(index)} master {names.uplink_bridge} up",
        ]
    _switch(holder, lines)



def _start(node_dir: Path, bin_dir: Path, pin: procs.Proc) -> procs.Proc:
    """Boot a node: its supervisor, root of the lab's user namespace in the node's network namespace (``pin``'s)."""
    (node_dir / "last-exit").unlink(missing_ok=True)
    (node_dir / node.MOUNTS_DONE).unlink(missing_ok=True)
    (node_dir / "rootfs").mkdir(exist_ok=True)
    with open(node_dir / "console.log", "ab") as log:
        return procs.spawn(["nsenter", "-t", str(pin.pid), "--user", "--net", "--", "/bin/sh",
                            str(bin_dir / "supervise-user.sh"), str(node_dir), str(bin_dir)], log=log)


def _prepare_inside(holder: userns.Holder, jobs: list) -> None:
    """Lay out the nodes' folders as root of the lab's user namespace (so their owners are the node's ids)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in [str(Path(__file__).parents[2]),
                                                                     os.environ.get("PYTHONPATH", "")] if p)}
    r = subprocess.run(userns.enter(holder, net=False) + [sys.executable, "-m", "clusterkit.lab.userlab", "prepare"],
                       input=pickle.dumps(jobs), capture_output=True, env=env, timeout=120)
    if r.returncode != 0:
        raise ClusterkitError(f"could not lay out the nodes: {r.stderr.decode(errors='replace').strip()[-400:]}",
                              field="lab")


# ------------------------------------------------------------------ the lab's binder

#: The binder's socket in the lab's folder (the folder is the user's, 0700; the socket 0600).
BINDER = "bin/binder.sock"


def _spawn_binder(directory: Path, holder: userns.Holder) -> subprocess.Popen:
    """The lab's binder: root of the lab's user namespace, it makes the workers' share binds
    (:mod:`.share`) that the workbook asks for on its socket. The workbook's kernel runs in a user namespace
    nested in the lab's (``lab enter``), with no privilege over the nodes' mount namespaces, and host root
    (who binds on a root lab) has no part in a normal user's lab."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in [str(Path(__file__).parents[2]),
                                                                     os.environ.get("PYTHONPATH", "")] if p)}
    sock = directory / BINDER
    with open(directory / "binder.log", "ab") as log:
        popen = subprocess.Popen(userns.enter(holder, net=False) + [sys.executable, "-m", "clusterkit.lab.userlab",
                                                                    "binder", str(sock)],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, env=env)
    procs._children[popen.pid] = popen
    return popen


def _wait_binder(directory: Path, popen: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while not (directory / BINDER).exists():
        if popen.poll() is not None or time.monotonic() > deadline:
            raise ClusterkitError("the lab's binder did not start (see binder.log in the lab's folder)", field="lab")
        time.sleep(0.01)


def _serve_binder(path: str) -> None:
    """Serve bind requests (one JSON line: src_pid, path, dst_pid, target) for nodes of this user namespace."""
    import socket
    import socketserver
    own = _ns(os.getpid(), "user")
    bindns = Path(__file__).with_name("bindns.py")

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            try:
                req = json.loads(self.rfile.readline())
                src, dst = int(req["src_pid"]), int(req["dst_pid"])
                if _ns(src, "user") != own or _ns(dst, "user") != own:
                    raise ValueError("not a node of this lab")
                r = subprocess.run([sys.executable, str(bindns), f"/proc/{src}/ns/mnt", str(req["path"]),
                                    f"/proc/{dst}/ns/mnt", str(req["target"])], capture_output=True, text=True,
                                   timeout=30)
                reply = {"rc": r.returncode, "stderr": r.stderr}
            except Exception as e:   # one bad request never stops the binder
                reply = {"rc": 1, "stderr": f"{type(e).__name__}: {e}"}
            self.wfile.write((json.dumps(reply) + "\n").encode())

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    os.umask(0o077)
    Path(path).unlink(missing_ok=True)
    with Server(path, Handler) as server:
        server.serve_forever()


def bind_through(lab, *, src_pid: int, path: str, dst_pid: int, target: str) -> subprocess.CompletedProcess:
    """Ask lab ``lab``'s binder for a share bind; returns what :mod:`.bindns` said (rc and stderr)."""
    import socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(40)
        try:
            s.connect(str(lab.dir / BINDER))
        except OSError as e:
            raise ClusterkitError(f"the lab's binder does not answer ({e}); `clusterkit lab down` and up again",
                                  field="lab") from None
        s.sendall((json.dumps({"src_pid": src_pid, "path": path, "dst_pid": dst_pid, "target": target}) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data or b'{"rc": 1, "stderr": "no answer"}')
    return subprocess.CompletedProcess([], reply["rc"], "", reply["stderr"])


# ------------------------------------------------------------------ removing it

def _sweep(info: dict, *, keep: set[int]) -> list[procs.Proc]:
    """Every process of the lab: in its user namespace, or in its switch's network namespace (``lab enter``'s)."""
    user, netns = info.get("userns"), info.get("netns")
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in keep:
            continue
        pid = int(entry)
        if (user and _ns(pid, "user") == user) or (netns and _ns(pid, "net") == netns):
            p = procs.proc_of(pid)
            if p is not None and procs.alive(p):
                found.append(p)
    return found


def teardown(name: str, *, lab, labs_dir: Path, holder: userns.Holder | None = None) -> None:
    """Remove a normal user's lab completely: its nodes, router and every other process in its namespaces
    (``lab enter``'s too), its files (from inside its user namespace: files of pi, munge, slurm belong to
    subordinate ids), then the holder, with which the namespaces and the maps go."""
    net.check_lab_name(name)
    directory = labs_dir / name
    info = _info(directory)
    holder = holder or _holder(directory)
    if holder is not None and not info:
        info = {"userns": _ns(holder.pid, "user"), "netns": _ns(holder.pid, "net")}
    if lab is not None:
        build.stop_nodes(lab)
    keep = {os.getpid()}
    if holder is not None:
        keep |= {holder.pid, *procs.descendants(holder.pid)}
    build.end_all(lambda: _sweep(info, keep=keep), name)
    own = holder
    try:
        if directory.exists():
            if own is None:   # the lab's namespace is gone: one with the same map removes its files
                own = userns.hold(userns.for_caller())
            r = subprocess.run(userns.enter(own, net=False) + ["rm", "-rf", "--one-file-system", "--", str(directory)],
                               capture_output=True, text=True, timeout=120)
            if directory.exists():
                raise ClusterkitError(f"could not remove {directory}: {r.stderr.strip()[-300:]}", field="lab")
    finally:
        if own is not None:
            userns.release(own)


# ------------------------------------------------------------------ the workbook inside the lab

def enter_command(lab, command: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run ``command`` on lab ``lab``'s network as the caller itself.

    A normal user's lab: ``nsenter --user --net --preserve-credentials`` into the switch, then a user namespace
    nested in the lab's that maps the caller's own uid and gid back (so ``id``, ``$HOME``, ssh's checks of its
    files are the user's, and the process has no privilege over the lab's), with ``CLUSTERKIT_INVENTORY`` the
    lab's. Any other lab: ``command`` as it is (its nodes are on the host's side)."""
    if not is_user_lab(lab.dir):
        return list(command), dict(os.environ)
    env = {**os.environ, "CLUSTERKIT_LABS_DIR": str(lab.dir.parent), "CLUSTERKIT_INVENTORY": str(lab.inventory_path),
           "CLUSTERKIT_BACKEND": "lab", "CLUSTERKIT_LAB": lab.name}
    holder = _holder(lab.dir)
    if holder is None:
        raise ClusterkitError(f"lab {lab.name}'s user namespace is gone; `clusterkit lab down --name {lab.name}` "
                              "and up again", field="userns")
    return (["nsenter", "-t", str(holder.pid), "--user", "--net", "--preserve-credentials", "--",
             "unshare", "--user", f"--map-user={os.getuid()}", f"--map-group={os.getgid()}", "--"] + list(command), env)


def write_kernelspec(lab, *, python: str = sys.executable) -> Path:
    """A ``python3`` kernelspec whose kernel runs on lab ``lab``'s network (``clusterkit lab enter``), in the
    lab's folder; returns the folder to put first in ``JUPYTER_PATH``. JupyterLab must give its kernels the ipc
    transport (``--KernelManager.transport=ipc``): a TCP port of the lab's network is not this one's."""
    top = lab.dir / "jupyter"
    spec = top / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "clusterkit.cli", "lab", "enter", "--name", lab.name, "--",
                 python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python 3 (lab {lab.name})", "language": "python",
        "env": {"CLUSTERKIT_LABS_DIR": str(lab.dir.parent)}}, indent=1))
    return top


def _prepare_many(jobs: list) -> None:
    for node_dir, uid, hash_, key, image in jobs:
        node.prepare(Path(node_dir), uid=uid, hash_=hash_, key=key, image=image)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["binder"] and len(argv) == 2:
        _serve_binder(argv[1])
        return 0
    if argv[:1] == ["prepare"]:
        _prepare_many(pickle.load(sys.stdin.buffer))
        return 0
    print("usage: python -m clusterkit.lab.userlab prepare < PICKLE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
