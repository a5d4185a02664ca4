"""The link between two labs: two carriers joined by a cable, as veth pairs a test can cut.

The workbook host travels with the first lab (``near``); the second (``far``) is
reached only through the link. :func:`join` makes one veth pair for each of the
far lab's networks: ``ck{near}-j{far slot}`` (its uplink) and ``ck{near}-k{far
slot}`` (its cluster network) on the host hold the host's addresses on those
networks (moved there from the far lab's bridges), and their peers ``ck{far}-j…``,
``ck{far}-k…`` are ports of the far lab's bridges. So everything the host sends to
the far lab's nodes (SSH, the engines' and agents' traffic), by either address,
crosses the link; :func:`cut` takes it down, :func:`restore` brings it back,
:func:`unjoin` removes it and gives the far bridges their addresses back. Names
start with ``ck`` and a lab's name, so ``lab down`` of either lab removes the
pairs (:func:`release`, called first, gives the far lab its addresses back).

A cut link takes its connected routes with it, and the host would then send the far
lab's traffic to its default route, off the machine: :func:`join` also adds an
``unreachable`` route for each far network (metric :data:`UNREACHABLE_METRIC`,
below the link's own), so while the link is down that traffic is refused on the host.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from ..errors import ClusterkitError
from . import net
from .record import Record

#: The metric of a far network's ``unreachable`` route: used only while the link's own route is gone.
UNREACHABLE_METRIC = 4242
#: One wire per far network: its letter in the links' names.
WIRES = ("j", "k")


def _wire(far: Record, wire: str) -> tuple[str, str, str]:
    """(the far bridge, the host's address on it with its prefix, the network) of one wire."""
    names = net.LabNames(far.name)
    if wire == "j":
        uplink = ipaddress.IPv4Network(far.uplink)
        return (names.uplink_bridge, f"{net.uplink_address(uplink, net.WORKBOOK_HOST)}/{uplink.prefixlen}",
                far.uplink)
    cluster = ipaddress.IPv4Network(far.network)
    return names.cluster_bridge, f"{list(cluster.hosts())[-1]}/{cluster.prefixlen}", far.network


def _names(near: Record, far: Record, wire: str) -> tuple[str, str]:
    return f"ck{near.name}-{wire}{far.slot}", f"ck{far.name}-{wire}{near.slot}"


def _refuse(far: Record, add: bool) -> None:
    for wire in WIRES:
        net.ip("route", "replace" if add else "del", "unreachable", _wire(far, wire)[2], "metric",
               str(UNREACHABLE_METRIC), check=add)


def _give_back(far: Record) -> None:
    for wire in WIRES:
        bridge, address, _ = _wire(far, wire)
        if bridge in net.existing_links():
            net.ip("addr", "replace", address, "dev", bridge, check=False)


def join(near: Record, far: Record) -> str:
    """Link ``far`` behind ``near``; returns the near end of its uplink wire. Joining twice is a no-op."""
    if near.name == far.name:
        raise ClusterkitError("a lab cannot be joined to itself", field="labs")
    if _names(near, far, "j")[0] in net.existing_links():
        return _names(near, far, "j")[0]
    _refuse(far, True)
    lines = []
    for wire in WIRES:
        here, there = _names(near, far, wire)
        bridge, address, _ = _wire(far, wire)
        lines += [f"link add {here} type veth peer name {there}", f"link set {there} master {bridge} up",
                  f"addr del {address} dev {bridge}", f"addr add {address} dev {here}", f"link set {here} up"]
    net.ip_batch(lines)
    for wire in WIRES:
        here, there = _names(near, far, wire)
        for end in (here, there):
            net.set_sysctl(f"net/ipv6/conf/{end}/disable_ipv6", "1")
        net.set_sysctl(f"net/ipv4/conf/{here}/forwarding", "0")
    return _names(near, far, "j")[0]


def cut(near: Record, far: Record) -> None:
    """Pull the cable: nothing crosses until :func:`restore`."""
    for wire in WIRES:
        net.ip("link", "set", _names(near, far, wire)[0], "down")


def restore(near: Record, far: Record) -> None:
    for wire in WIRES:
        net.ip("link", "set", _names(near, far, wire)[0], "up")


def is_up(near: Record, far: Record) -> bool:
    """Whether every wire of the link is up (plugged in)."""
    for wire in WIRES:
        shown = json.loads(net.ip("-j", "link", "show", _names(near, far, wire)[0], check=False).stdout or "[]")
        if not shown or "UP" not in shown[0].get("flags", []):
            return False
    return True


def unjoin(near: Record, far: Record) -> None:
    """Remove the link; the far lab is reached directly again."""
    for wire in WIRES:
        here, _ = _names(near, far, wire)
        if here in net.existing_links():
            net.ip("link", "del", here)
    _give_back(far)
    _refuse(far, False)


def records(near: str, far: str, labs_dir: Path) -> tuple[Record, Record]:
    """The two running labs' records (a clear error for one that is not up)."""
    out = []
    for name in (near, far):
        net.check_lab_name(name)
        try:
            out.append(Record.load(labs_dir / name))
        except OSError:
            raise ClusterkitError(f"no lab {name} is up; `clusterkit lab up --name {name}` first",
                                  field="labs") from None
    return out[0], out[1]


def release(name: str, labs_dir: Path) -> None:
    """Before lab ``name`` goes: remove its links; the lab at the other end of each gets its own addresses
    back on its bridges (when it was the far lab), and neither keeps an ``unreachable`` route."""
    ends = [l for l in net.existing_links() if any(l.startswith(f"ck{name}-{w}") for w in WIRES)
            and l[len(f"ck{name}-") + 1:].isdigit()]
    if not ends:
        return
    others: dict[str, Record] = {}
    mine = None
    for directory in labs_dir.iterdir() if labs_dir.is_dir() else []:
        try:
            record = Record.load(directory)
        except (OSError, ValueError, KeyError):
            continue
        if record.name == name:
            mine = record
        else:
            others[str(record.slot)] = record
    for end in ends:
        net.ip("link", "del", end, check=False)
    for slot in {end[len(f"ck{name}-") + 1:] for end in ends}:
        if slot in others:
            _give_back(others[slot])
            _refuse(others[slot], False)
    if mine is not None:
        _refuse(mine, False)


__all__ = ["join", "cut", "restore", "unjoin", "release", "is_up", "records", "WIRES"]
