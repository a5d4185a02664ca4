"""The lab's links: two bridges on the host, one namespace and two veths per node.

Every name the lab makes starts with ``ck`` and the lab's name, so one lab never
touches another's (or anything else on the host). Interface names are at most
15 characters: lab names are at most 8, node numbers at most 3 digits.

The subnets are private, distinct from every route and address the host has,
and from every other running lab's, so a test lab can run beside a dev lab.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from pathlib import Path
from typing import Iterable

from ..errors import ClusterkitError

#: Where the uplink ("venue Wi-Fi") subnets are taken from: 172.30.0.0/24, 172.30.1.0/24, …
UPLINK_POOL = ipaddress.IPv4Network("172.30.0.0/16")
#: Where cluster networks come from when a lab's default (10.0.0.0/24) is taken: 10.0.1.0/24, …
CLUSTER_POOL = ipaddress.IPv4Network("10.0.0.0/16")
DEFAULT_CLUSTER_NETWORK = ipaddress.IPv4Network("10.0.0.0/24")
#: Host offsets on the uplink: the router, the workbook host, the first node.
ROUTER_HOST, WORKBOOK_HOST, FIRST_NODE_HOST = 1, 2, 10
MAX_NODES = 200

_LAB_NAME = re.compile(r"^[a-z]([a-z0-9]{0,6}[a-z])?$")


def check_lab_name(name: str) -> str:
    if not isinstance(name, str) or not _LAB_NAME.match(name):
        raise ClusterkitError(f"{name!r} is not a lab name: 1 to 8 lower-case letters or digits, "
                              "first and last a letter (it prefixes the nodes' names, NAME0, NAME1, …, and the links)", field="name")
    return name


class LabNames:
    """The names of everything one lab creates on the host."""

    def __init__(self, lab: str):
        self.lab = lab
        self.cluster_bridge = f"ck{lab}-c"    #: the wired cluster network (eth0)
        self.uplink_bridge = f"ck{lab}-u"     #: the venue Wi-Fi (wlan0)
        self.router_ns = f"ck-{lab}-router"   #: the venue router's namespace
        self.router_veth = f"ck{lab}-r"

    def __repr__(self) -> str:
        return f"<LabNames {self.lab}>"

    def node_ns(self, node: str) -> str:
        return f"ck-{self.lab}-{node}"

    def wired_veth(self, index: int) -> str:
        return f"ck{self.lab}-{index}c"

    def wifi_veth(self, index: int) -> str:
        return f"ck{self.lab}-{index}w"

    def links(self, count: int) -> list[str]:
        """Every host-side link of a lab of ``count`` nodes, bridges last."""
        return ([self.wired_veth(i) for i in range(count)] + [self.wifi_veth(i) for i in range(count)]
                + [self.router_veth, self.cluster_bridge, self.uplink_bridge])


def mac(slot: int, index: int, kind: int) -> str:
    """A stable, locally administered MAC (02:63:6b = "ck") for a node's interface."""
    return f"02:63:6b:{slot & 0xff:02x}:{kind:02x}:{index & 0xff:02x}"


# ------------------------------------------------------------------ running ip

def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise ClusterkitError(f"ip {' '.join(args)}: {proc.stderr.strip()}", field="lab")
    return proc


def ip_batch(lines: Iterable[str], *, force: bool = False) -> str:
    """Run many ``ip`` commands in one process; returns stderr (with ``force``, errors do not stop it)."""
    text = "\n".join(lines) + "\n"
    proc = subprocess.run(["ip", *(["-force"] if force else []), "-batch", "-"], input=text,
                          capture_output=True, text=True)
    if proc.returncode != 0 and not force:
        raise ClusterkitError(f"setting up links failed: {proc.stderr.strip()}", field="lab")
    return proc.stderr


def set_sysctl(path: str, value: str) -> None:
    Path("/proc/sys", path).write_text(value)


def existing_links() -> set[str]:
    return {entry["ifname"] for entry in json.loads(ip("-j", "link", "show").stdout or "[]")}


def existing_netns() -> set[str]:
    return {line.split()[0] for line in ip("netns", "list").stdout.splitlines() if line.strip()}


def lab_leftovers(lab: str) -> list[str]:
    """The links (``ck<lab>-…``) and namespaces (``ck-<lab>-…``) of lab ``lab`` on this host, sorted."""
    return sorted({link for link in existing_links() if link.startswith(f"ck{lab}-")}
                  | {ns for ns in existing_netns() if ns.startswith(f"ck-{lab}-")})


# ------------------------------------------------------------------ subnets

def host_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 prefix the host routes or holds an address in (the default route aside)."""
    nets = []
    for entry in json.loads(ip("-j", "-4", "route", "show", "table", "all").stdout or "[]"):
        dst = entry.get("dst", "default")
        if dst == "default":
            continue
        try:
            nets.append(ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32", strict=False))
        except ValueError:
            continue
    for entry in json.loads(ip("-j", "-4", "addr", "show").stdout or "[]"):
        for a in entry.get("addr_info", []):
            nets.append(ipaddress.IPv4Network(f"{a['local']}/{a['prefixlen']}", strict=False))
    return nets


def collision(net: ipaddress.IPv4Network, taken: Iterable[ipaddress.IPv4Network]) -> ipaddress.IPv4Network | None:
    for other in taken:
        if net.overlaps(other):
            return other
    return None


def choose_subnets(*, network: str | None, taken: list[ipaddress.IPv4Network]
                   ) -> tuple[ipaddress.IPv4Network, ipaddress.IPv4Network]:
    """The cluster network and the uplink subnet of a new lab, clear of ``taken`` (host and other labs).

    An explicit ``network`` that collides is refused, naming the route it meets;
    otherwise 10.0.0.0/24 when free, else the next free 10.0.k.0/24.
    """
    if network is not None:
        try:
            cluster = ipaddress.IPv4Network(network, strict=True)
        except ValueError as e:
            raise ClusterkitError(f"{network!r} is not an IPv4 network in CIDR form ({e})", field="network") from None
        if not cluster.is_private:
            raise ClusterkitError(f"{cluster} is not a private range; the lab only uses private addresses",
                                  field="network")
        hit = collision(cluster, taken)
        if hit is not None:
            raise ClusterkitError(f"{cluster} collides with {hit}, which this host already routes or another "
                                  "lab uses; choose another network", field="network")
    else:
        candidates = [DEFAULT_CLUSTER_NETWORK] + list(CLUSTER_POOL.subnets(new_prefix=24))[1:]
        cluster = next((c for c in candidates if collision(c, taken) is None), None)
        if cluster is None:
            raise ClusterkitError(f"no free /24 left in {CLUSTER_POOL} for the cluster network", field="network")
    uplink = next((u for u in UPLINK_POOL.subnets(new_prefix=24)
                   if collision(u, taken) is None and not u.overlaps(cluster)), None)
    if uplink is None:
        raise ClusterkitError(f"every /24 of {UPLINK_POOL} collides with this host's routes or another lab; "
                              "the lab cannot choose an uplink subnet", field="uplink")
    return cluster, uplink


def uplink_address(uplink: ipaddress.IPv4Network, offset: int) -> ipaddress.IPv4Address:
    return uplink.network_address + offset
