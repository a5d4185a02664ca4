"""Making a lab on the host, and removing every trace of it.

Making: choose subnets clear of the host's routes and of other labs, lay out
each node's fresh image, make the bridges, namespaces and veths in one
``ip -batch``, start the router and the nodes, then write the inventory, the
known_hosts (the lab made the host keys, so its nodes are trusted from the
start) and ``lab.json``.

Removing, in the order that leaves nothing behind: the nodes' process groups
and the router, any other process still in one of the lab's namespaces, the
host-side veths (before their namespaces), the namespaces, the bridges, then
the lab's directory (only once no mount lies below it).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ClusterkitError
from ..firstboot.password import hash_password
from . import dhcp, link, net, node, procs
from .image import FreshImage
from .record import Board, Record, write_inventory

WIRED, WIFI = 0x0e, 0x0a


@dataclass(frozen=True)
class NodeWay:
    """How a kind of namespace lab writes its scripts, lays out a node, makes its network namespace and
    starts it; :data:`HOST_WAY` is the default kind's (host root, ``ip netns add``)."""

    #: Writes the lab's scripts into its ``bin`` folder.
    write_scripts: Callable[[Path], None]
    #: Lays out a node's directories (``node.prepare``'s signature).
    prepare: Callable[..., None]
    #: The ``ip -batch`` lines that make a node's named network namespace (or makes it and returns none).
    netns: Callable[[str], list[str]]
    #: Boots a node (``node.start``'s signature); returns its supervisor.
    start: Callable[..., procs.Proc]
    #: What the venue router's dnsmasq runs under in its namespace (which ``netns`` makes too); nothing: host root.
    router: tuple[str, ...] = ()


HOST_WAY = NodeWay(write_scripts=node.write_scripts, prepare=node.prepare,
                   netns=lambda ns: [f"netns add {ns}"], start=node.start)


def build(*, name: str, count: int, network: str | None, image: FreshImage, labs_dir: Path,
          password: str, other_labs: list, kind: str, way: NodeWay = HOST_WAY) -> None:
    """Make namespace lab ``name`` in ``labs_dir/name`` (``kind``: what its ``lab.json`` calls its kind; ``way``:
    how its nodes are made and started); on any failure, remove what was made."""
    names = net.LabNames(name)
    cluster, uplink, slot = place(name, network=network, other_labs=other_labs)
    directory = labs_dir / name
    directory.mkdir(mode=0o755)
    try:
        _make(directory, names=names, name=name, count=count, cluster=cluster, uplink=uplink,
              slot=slot, image=image, password=password, kind=kind, way=way)
    except BaseException:
        teardown(name, lab=Record.load(directory) if (directory / "lab.json").exists() else None, labs_dir=labs_dir)
        raise


def place(name: str, *, network: str | None, other_labs: list
          ) -> tuple[ipaddress.IPv4Network, ipaddress.IPv4Network, int]:
    """Where a new lab ``name`` goes: its cluster network, its uplink subnet and its slot (for MACs), clear of
    this host's routes and of the other labs; refused while links or namespaces of an old one are left."""
    clash = net.lab_leftovers(name)
    if clash:
        raise ClusterkitError(f"links or namespaces of lab {name} are left over ({', '.join(clash[:4])}); "
                              f"`clusterkit lab down --name {name}` removes them", field="name")
    taken = net.host_networks()
    for other in other_labs:
        taken += [ipaddress.IPv4Network(other.network), ipaddress.IPv4Network(other.uplink)]
    cluster, uplink = net.choose_subnets(network=network, taken=taken)
    slots = {other.slot for other in other_labs}
    return cluster, uplink, next(s for s in range(len(slots) + 1) if s not in slots)


def _make(directory: Path, *, names: net.LabNames, name: str, count: int, cluster: ipaddress.IPv4Network,
          uplink: ipaddress.IPv4Network, slot: int, image: FreshImage, password: str, kind: str,
          way: NodeWay) -> None:
    (directory / "nodes").mkdir(mode=0o700)
    bin_dir = directory / "bin"
    way.write_scripts(bin_dir)

    hash_ = hash_password(password)
    hosts = list(cluster.hosts())
    boards, keys, reservations = [], {}, {}
    for i in range(count):
        node_name = f"{name}{i}"
        key = node.HostKey.generate(f"root@{image.hostname}")
        uid = image.uid_of(i, count)
        way.prepare(directory / "nodes" / node_name, uid=uid, hash_=hash_, key=key, image=image)
        host = str(net.uplink_address(uplink, net.FIRST_NODE_HOST + i))
        boards.append(Board(name=node_name, index=i, uid=uid, host=host, address=str(hosts[i])))
        keys[node_name] = key
        reservations[net.mac(slot, i, WIFI)] = host

    workbook_uplink = net.uplink_address(uplink, net.WORKBOOK_HOST)
    workbook_cluster = hosts[-1]
    lines = [
        f"link add {names.cluster_bridge} type bridge forward_delay 0 stp_state 0",
        f"link add {names.uplink_bridge} type bridge forward_delay 0 stp_state 0",
    ]
    for bridge in (names.cluster_bridge, names.uplink_bridge):
        lines.append(f"link set {bridge} up")
    lines += [f"addr add {workbook_cluster}/{cluster.prefixlen} dev {names.cluster_bridge}",
              f"addr add {workbook_uplink}/{uplink.prefixlen} dev {names.uplink_bridge}"]
    lines += dhcp.router_links(names, netns=way.netns)
    for b in boards:
        ns = names.node_ns(b.name)
        lines += way.netns(ns) + [
            f"link add {names.wired_veth(b.index)} type veth peer name eth0 address "
            f"{net.mac(slot, b.index, WIRED)} netns {ns}",
            f"link add {names.wifi_veth(b.index)} type veth peer name wlan0 address "
            f"{net.mac(slot, b.index, WIFI)} netns {ns}",
            f"link set {names.wired_veth(b.index)} master {names.cluster_bridge} up",
            f"link set {names.wifi_veth(b.index)} master {names.uplink_bridge} up",
        ]
    _links(names, lines, count)
    router = dhcp.start_router(names=names, uplink=uplink, reservations=reservations, state=directory,
                               enter=list(way.router))
    boards = [Board(**{**b.__dict__, "supervisor": way.start(
        ns=names.node_ns(b.name), node_dir=directory / "nodes" / b.name, bin_dir=bin_dir)}) for b in boards]
    Record(name, slot, str(cluster), str(uplink), router, {b.name: b for b in boards}, kind=kind).save(directory)
    known = "".join(f"{b.host},{b.address} {' '.join(keys[b.name].public.split()[:2])}\n" for b in boards)
    (directory / "known_hosts").write_text(known)
    (directory / "known_hosts").chmod(0o644)
    write_inventory(directory / "inventory.yaml", {
        "name": name, "nodes": f"{name}[0-{count - 1}]" if count > 1 else f"{name}0",
        "primary": f"{name}0", "user": image.user, "network": str(cluster), "backend": "lab",
        "password": password, "python": node_python(),
        "hosts": {b.name: {"host": b.host} for b in boards}})


def node_python() -> str:
    """The Python a lab node runs (engines, the agent): this one's, when it lies where nodes see the host's
    files (not under the private /root, /home, /run, /var, /etc), else the system's."""
    prefix = Path(sys.prefix)
    if prefix.parts[1:2] and prefix.parts[1] not in ("root", "home", "run", "var", "etc", "tmp"):
        python = prefix / "bin" / "python"
        if python.exists():
            return str(python)
    return "python3"


def _links(names: net.LabNames, lines: list[str], count: int) -> None:
    net.ip_batch(lines)
    # The host only talks to the lab; it never forwards for it, and keeps IPv6 off the lab's links.
    for bridge in (names.cluster_bridge, names.uplink_bridge):
        net.set_sysctl(f"net/ipv4/conf/{bridge}/forwarding", "0")
    for each in names.links(count):
        net.set_sysctl(f"net/ipv6/conf/{each}/disable_ipv6", "1")


def _netns_inodes(prefix: str) -> dict[int, str]:
    out = {}
    for ns in net.existing_netns():
        if ns.startswith(prefix):
            try:
                out[os.stat(f"/run/netns/{ns}").st_ino] = ns
            except FileNotFoundError:
                pass
    return out


def _processes_in(inodes: dict[int, str]) -> list[procs.Proc]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ino = os.stat(f"/proc/{entry}/ns/net").st_ino
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
        if ino in inodes:
            p = procs.proc_of(int(entry))
            if p is not None and procs.alive(p):
                found.append(p)
    return found


def _mounts_below(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    return [p for p in _mount_points() if p.startswith(prefix) or p == prefix[:-1]]


def _release_netns_mount() -> None:
    """``ip netns add`` mounts /run/netns on itself the first time; unmount it once no namespace is named there."""
    run_netns = Path("/run/netns")
    if run_netns.is_dir() and not any(run_netns.iterdir()) and str(run_netns) in _mount_points():
        subprocess.run(["umount", str(run_netns)], capture_output=True)


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f]


def end_all(find, name: str) -> None:
    """SIGKILL the processes ``find()`` returns until it returns none (50 rounds), else raise naming lab ``name``
    and the processes that stay."""
    for _ in range(50):
        left = find()
        if not left:
            return
        for p in left:
            procs.kill(p)
        procs.wait_gone(left, timeout=0.2)
    raise ClusterkitError(f"processes stay in lab {name}'s namespaces: {', '.join(str(p.pid) for p in find())}",
                          field="lab")


def stop_nodes(lab) -> None:
    """Pull every node's plug and stop the lab's router; return once they are gone."""
    supervisors = [b.supervisor for b in lab.boards.values() if b.supervisor]
    for sup in supervisors:
        node.stop(sup)
    if lab.router:
        procs.kill(lab.router)
    procs.wait_gone(supervisors + ([lab.router] if lab.router else []))


def teardown(name: str, *, lab, labs_dir: Path) -> None:
    """Remove lab ``name`` completely, from whatever state it is in."""
    net.check_lab_name(name)
    if lab is not None:
        stop_nodes(lab)
    link.release(name, labs_dir)   # a lab linked behind this one gets its own address back
    inodes = _netns_inodes(f"ck-{name}-")
    end_all(lambda: _processes_in(inodes), name)
    links = sorted(l for l in net.existing_links() if l.startswith(f"ck{name}-"))
    bridges = {f"ck{name}-c", f"ck{name}-u"}
    lines = [f"link del {l}" for l in links if l not in bridges]
    lines += [f"netns del {ns}" for ns in sorted(inodes.values())]
    lines += [f"link del {l}" for l in links if l in bridges]
    if lines:
        errors = net.ip_batch(lines, force=True)
        still = net.lab_leftovers(name)
        if still:
            raise ClusterkitError(f"could not remove {', '.join(still)}: {errors.strip()}", field="lab")
    _release_netns_mount()
    directory = labs_dir / name
    if directory.exists():
        mounted = _mounts_below(directory)
        if mounted:
            raise ClusterkitError(f"mounts remain below {directory}: {', '.join(mounted)}; not removing it",
                                  field="lab")
        shutil.rmtree(directory)
