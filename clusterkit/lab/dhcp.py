"""The venue router: its own namespace on the uplink bridge, running dnsmasq.

It hands every node's Wi-Fi an address (reserved by MAC, so a rebooted node
keeps its address as a home router remembers leases), a default route through
itself and itself as the DNS server. It has no other link and forwards
nothing, so no lab traffic ever leaves the machine.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from . import procs
from .net import ROUTER_HOST, LabNames, ip, uplink_address

#: The venue's DNS domain; the router answers for names under it only.
DOMAIN = "venue.lan"


def router_links(names: LabNames, *, netns=lambda ns: [f"netns add {ns}"]) -> list[str]:
    """``ip -batch`` lines that make the router's namespace and its one link (``netns``: the lines that make a
    named network namespace, or make it and return none, as a kind of lab's nodes get theirs)."""
    return [
        *netns(names.router_ns),
        f"link add {names.router_veth} type veth peer name eth0 netns {names.router_ns}",
        f"link set {names.router_veth} master {names.uplink_bridge} up",
    ]


def start_router(*, names: LabNames, uplink: ipaddress.IPv4Network, reservations: dict[str, str],
                 state: Path, ns: str | None = None, interface: str = "eth0", enter: list[str] = ()) -> procs.Proc:
    """Address the router's link and start dnsmasq there; returns its process.

    ``ns`` and ``interface``: where it serves (default: its own namespace's ``eth0``; the VM lab's router
    serves on the venue bridge inside the VM lab's namespace). ``enter``: what dnsmasq runs under once in that
    namespace (a lab in a user namespace runs it as the namespace's root, not the host's)."""
    addr = uplink_address(uplink, ROUTER_HOST)
    ns = ns or names.router_ns
    ip("-n", ns, "addr", "add", f"{addr}/{uplink.prefixlen}", "dev", interface)
    ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", ns, "link", "set", interface, "up")
    command = ["ip", "netns", "exec", ns, *enter] + dnsmasq(uplink=uplink, reservations=reservations, state=state,
                                                              interface=interface)
    with open(state / "router.log", "ab") as log:
        return procs.spawn(command, log=log)


def dnsmasq(*, uplink: ipaddress.IPv4Network, reservations: dict[str, str], state: Path, interface: str) -> list[str]:
    """The router's dnsmasq command line, serving on ``interface`` (its hosts file written into ``state``)."""
    addr = uplink_address(uplink, ROUTER_HOST)
    hosts = state / "dhcp-hosts"
    hosts.write_text("".join(f"{m},{a},infinite\n" for m, a in reservations.items()))
    first = uplink_address(uplink, 100)
    last = uplink_address(uplink, 250)
    return [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
        "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces", f"--interface={interface}",
        "--except-interface=lo", "--user=root", "--group=root", "--pid-file=",   # none: the lab keeps its Proc
        f"--dhcp-leasefile={state / 'dnsmasq.leases'}", f"--dhcp-hostsfile={hosts}",
        f"--dhcp-range={first},{last},{uplink.netmask},12h", "--dhcp-authoritative", "--no-ping",
        f"--dhcp-option=option:router,{addr}", f"--dhcp-option=option:dns-server,{addr}",
        f"--domain={DOMAIN}", f"--local=/{DOMAIN}/", f"--address=/router.{DOMAIN}/{addr}",
        "--log-facility=-",
    ]


def leases(state: Path) -> dict[str, str]:
    """MAC -> address of the leases the router has handed out."""
    try:
        text = (state / "dnsmasq.leases").read_text()
    except FileNotFoundError:
        return {}
    return {f[1]: f[2] for f in (line.split() for line in text.splitlines()) if len(f) >= 3}
