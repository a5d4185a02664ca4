"""Notebook 02: static wired addresses, host names, and /etc/hosts on every node.

The wired cluster interface gets the inventory's static address (primary
first); the Wi-Fi uplink stays on DHCP, and the wired profile never takes the
default route (``never-default``), so the default route stays on Wi-Fi
wherever the cluster travels. The address is persisted in the format the
node's OS uses, detected per node (see :mod:`.netconf`); where no network
manager runs (the lab), it is also applied at once with iproute2.

Never cut the branch you sit on: after applying, each node's new address must
answer before the inventory switches to it; a node that does not answer is
rolled back to its old files and address, and reported.
"""

from __future__ import annotations

import time

import ipaddress
import re
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Callable

from ..inventory import HOSTNAME_RE as HOSTNAME, INTERFACE_RE as INTERFACE
from .base import Command, FileChange, NodePlan, Reader, Step, StepError
from .blocks import BEGIN, END, without_block
from .netconf import FORMATS, apply_command, detect, render
from .reach import node_at
from .render import matrix

if TYPE_CHECKING:
    from ..cluster import Cluster

#: Network manager daemons whose presence means the address must not be set by hand.
MANAGERS = ("NetworkManager", "dhcpcd", "systemd-networkd")
#: Seconds a node gets to answer at its new address before the network step rolls it back.
SETTLE = 20.0

Probe = Callable[[str, str], bool]


class Network(Step):
    """Static ``addresses`` on ``interface`` (default: the inventory's), host names, and ``/etc/hosts``.

    ``addresses`` and ``hostnames`` override the inventory's per node.
    ``probe(node, address)`` says whether a node answers at its new address
    (default: a fresh connection there that runs ``true``).
    """

    title = "network"

    def __init__(self, cluster: Cluster, *, addresses: dict[str, str] | None = None,
                 hostnames: dict[str, str] | None = None, interface: str | None = None, uplink: str | None = None,
                 probe: Probe | None = None, nodes=None):
        super().__init__(cluster, nodes=nodes)
        inv = cluster.inventory
        self.network = inv.network
        self.interface = interface or inv.interface
        self.uplink = uplink or inv.uplink
        self.addresses = {s.name: s.address for s in inv}
        self.addresses.update(addresses or {})
        self.hostnames = {s.name: s.name for s in inv}
        self.hostnames.update(hostnames or {})
        self.probe = probe
        self.switched: dict[str, str] = {}
        self.probe_errors: dict[str, str] = {}   #: why a node's new address did not answer
        self.rolled_back: dict[str, str] = {}
        self.nm_runs: set[str] = set()   #: nodes whose running NetworkManager took the new profile (plan time)

    def __repr__(self) -> str:
        return f"<Network {self.interface} {self.network} on {self.where}>"

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        where = self.where
        if self.network is None:
            raise StepError("the inventory has no cluster network (e.g. network: 10.0.0.0/24)", node=where, field="network")
        for fld, value in (("interface", self.interface), ("uplink", self.uplink)):
            if not INTERFACE.match(str(value)):
                raise StepError(f"{value!r} is not an interface name", node=where, field=fld)
        if self.interface == self.uplink:
            raise StepError("the cluster interface and the uplink must differ", node=where, field="uplink")
        unknown = set(self.addresses) - set(self.cluster.inventory.nodes)
        unknown |= set(self.hostnames) - set(self.cluster.inventory.nodes)
        if unknown:
            raise StepError("names a node that is not in the inventory", node=sorted(unknown)[0], field="addresses")
        seen_addr: dict[str, str] = {}
        seen_name: dict[str, str] = {}
        for n in self.cluster.inventory.nodes:
            raw = self.addresses.get(n)
            try:
                addr = ipaddress.IPv4Address(str(raw))
            except ValueError:
                raise StepError(f"{raw!r} is not an IPv4 address", node=n, field="address") from None
            if addr not in self.network:
                raise StepError(f"{addr} is outside the cluster network {self.network}", node=n, field="address")
            if addr == self.network.network_address:
                raise StepError(f"{addr} is the network address of {self.network}", node=n, field="address")
            if addr == self.network.broadcast_address:
                raise StepError(f"{addr} is the broadcast address of {self.network}", node=n, field="address")
            if str(addr) in seen_addr:
                raise StepError(f"{addr} is already the address of {seen_addr[str(addr)]}", node=n, field="address")
            seen_addr[str(addr)] = n
            self.addresses[n] = str(addr)
            name = self.hostnames.get(n)
            if not isinstance(name, str) or not HOSTNAME.match(name):
                raise StepError(f"{name!r} is not a valid host name (letters, digits, '-', at most 63)",
                                node=n, field="hostname")
            if name.isdigit():
                raise StepError(f"{name!r} is all digits, which resolvers take for an address", node=n, field="hostname")
            if name.lower() in seen_name:
                raise StepError(f"{name!r} is already the host name of {seen_name[name.lower()]}", node=n, field="hostname")
            seen_name[name.lower()] = n

    # ------------------------------------------------------------ reading
    def read(self, node, reader: Reader) -> dict:
        state = {"hostname": reader.text("/etc/hostname"), "hosts": reader.text("/etc/hosts")}
        state["format"], state["config"] = detect(reader, self.interface)
        state["runtime"] = node.platform.live(partial(self._runtime, node), otherwise=None)
        return state

    def _runtime(self, node) -> dict | None:
        """The running host name, the interface's addresses, and whether a network manager runs (None: unread)."""
        r = node.run(f"hostname; ip -o -4 addr show dev {self.interface} 2>/dev/null; "
                     f"echo managers: $(pidof {' '.join(MANAGERS)} >/dev/null && echo yes || echo no)", timeout=30)
        if not r.ok:
            return None
        lines = r.stdout.splitlines()
        return {"hostname": lines[0].strip() if lines else "",
                "addresses": re.findall(r"inet (\d+\.\d+\.\d+\.\d+/\d+)", r.stdout),
                "managed": "managers: yes" in r.stdout}

    # ------------------------------------------------------------ planning
    def node_plan(self, node, s: dict, states) -> NodePlan:
        plan = NodePlan(node.name)
        name = self.hostnames[node.name]
        addr = self.addresses[node.name]
        cidr = f"{addr}/{self.network.prefixlen}"
        changed = False
        if s["hostname"] != name + "\n":
            plan.actions.append(FileChange("/etc/hostname", _b(s["hostname"]), (name + "\n").encode(),
                                           why="the node's name", mode=0o644))
        hosts = self.hosts_text(s["hosts"] or "")
        if hosts != (s["hosts"] or ""):
            plan.actions.append(FileChange("/etc/hosts", _b(s["hosts"]), hosts.encode(), mode=0o644,
                                           why="every node by name, in a managed block"))
        fmt, config = s["format"], s["config"]
        changes = render(fmt, config, interface=self.interface, cidr=cidr, node=node.name,
                         cluster=self.cluster.inventory.name)
        for change in changes:
            plan.actions.append(change)
            plan.notes.append(f"the address is kept as a {FORMATS[fmt]}")
            changed = True
        runtime = s["runtime"]
        if runtime is None:
            if plan.actions:
                plan.actions.append(Command(f"hostname {name}", "the running host name"))
            if changed:
                plan.actions.append(Command(f"ip addr replace {cidr} dev {self.interface}",
                                            "the address now (no network manager runs)"))
            return plan
        if runtime["hostname"] != name:
            plan.actions.append(Command(f"hostname {name}", "the running host name"))
        if runtime["managed"]:
            if changed:
                if fmt == "nm":
                    self.nm_runs.add(node.name)
                plan.actions.append(Command(apply_command(fmt, self.interface, changes),
                                            "the network manager takes the new config now"))
        else:
            stale = [a for a in runtime["addresses"] if a != cidr
                     and ipaddress.IPv4Interface(a).ip in self.network]
            for a in stale:
                plan.actions.append(Command(f"ip addr del {a} dev {self.interface}", "an old cluster address"))
            if cidr not in runtime["addresses"]:
                plan.actions += [Command(f"ip link set {self.interface} up", "the wired link up"),
                                 Command(f"ip addr replace {cidr} dev {self.interface}",
                                         "the address now (no network manager runs)")]
        return plan

    def hosts_text(self, old: str) -> str:
        """``/etc/hosts`` with the managed block replaced (or added) and Debian's 127.0.1.1 line dropped.

        127.0.1.1 names the host on machines with no fixed address; here the
        node's own name must resolve to its cluster address (MPI binds to it).
        """
        keep = [line for line in without_block(old, BEGIN, END) if line.split()[:1] != ["127.0.1.1"]]
        while keep and not keep[-1].strip():
            keep.pop()
        block = [BEGIN + " (the cluster's nodes; this block is replaced when the network step runs)"]
        block += [f"{self.addresses[n]}\t{self.hostnames[n]}" for n in self.cluster.inventory.nodes]
        block.append(END)
        return "\n".join(keep + [""] + block) + "\n"

    # ------------------------------------------------------------ after applying
    def settle(self, plan, outcomes) -> None:
        """Check each changed node answers at its new address; roll back the ones that do not.

        A node that answers is reached at its new address from now on (the cluster reconnects it)."""
        inv = self.cluster.inventory
        for n, outcome in outcomes.items():
            if outcome.problem or plan[n].empty:
                continue
            addr = self.addresses[n]
            no_network = self.cluster[n].platform.why_no_cluster_network()
            if self.probe is None and no_network:
                outcome.skipped.append(f"check that {addr} answers ({no_network})")
                continue
            if (self.probe or self._connects)(n, addr):
                if inv[n].host != addr:
                    self.switched[n] = addr
                    outcome.reach = replace(inv[n], host=addr)
                continue
            node = self.cluster[n]
            self.restore(node, plan[n])
            node.platform.live(partial(self._drop_address, node, addr), otherwise=None)
            why = self.probe_errors.get(n)
            outcome.problem = f"{addr} did not answer{f' ({why})' if why else ''}; rolled back to the old configuration"
            outcome.rolled_back = True
            self.rolled_back[n] = addr

    def _drop_address(self, node, addr: str) -> None:
        """Take the new address off the running interface (a rollback, after its files went back)."""
        if node.name in self.nm_runs:   # NetworkManager forgets the profile whose file went back
            node.sudo("nmcli connection reload", timeout=30)
        node.sudo(f"ip addr del {addr}/{self.network.prefixlen} dev {self.interface}", timeout=30)

    def _connects(self, node: str, address: str) -> bool:
        """The node answers SSH at ``address``. A link that just came up (on a board, NetworkManager
        re-activating the profile; on an emulated board under load, slower still) may take seconds to
        answer, so any failure, a timeout too, is tried again until :data:`SETTLE` seconds (at least twice
        the connect timeout) have passed; only then is the node rolled back."""
        deadline = time.monotonic() + max(self.cluster.connect_timeout * 2, SETTLE)
        while True:
            probe = node_at(self.cluster, replace(self.cluster.inventory[node], host=address))
            try:
                r = probe.run("true", timeout=self.cluster.connect_timeout)
            finally:
                probe.close()
            if r.ok or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        if not r.ok:
            self.probe_errors[node] = r.summary()
        return r.ok

    # ------------------------------------------------------------ checks
    def pings(self, *, by: str = "address"):
        """The ping matrix: every node to every other, ``by`` "address" or "name"."""
        return ping_matrix(self, by=by)

    def routes(self):
        """Each node's default route (it should leave through the uplink) and how its own name resolves.

        Where the nodes' changes are simulated (the local backend) the name is looked up in the sandbox's
        ``/etc/hosts`` and no route is read.
        """
        # The nodes of a cluster share one backend: its platform chooses which of the two reads applies.
        show = self.cluster[self.names[0]].platform.live(lambda: self._routes_read, otherwise=self._routes_looked_up)
        return show()

    def _routes_read(self):
        return self.cluster.run("ip route show default; getent hosts $(hostname)", nodes=self.names, timeout=30)

    def _routes_looked_up(self):
        return self.cluster.each(self._lookup, nodes=self.names, command="resolve (sandbox /etc/hosts)")

    def _lookup(self, node):
        from ..results import NodeResult
        name = (node.read_file("/etc/hostname") or b"").decode().strip()
        hosts = (node.read_file("/etc/hosts") or b"").decode().splitlines()
        found = next((ln.split()[0] for ln in hosts if ln.split()[1:] and name in ln.split()[1:]
                      and not ln.startswith("#")), None)
        line = f"{found}\t{name}" if found else f"{name}: not in /etc/hosts"
        return NodeResult.done(node.name, found, stdout=f"(local backend: no routes to show)\n{line}\n")

    def verify_node(self, node) -> str | None:
        r = node.run(f"ip route show default; getent hosts {self.hostnames[node.name]}", timeout=30)
        if f"dev {self.uplink}" not in r.stdout and "default" in r.stdout:
            raise StepError(f"the default route is not via {self.uplink}: {r.stdout.splitlines()[0]}",
                            node=node.name, field="uplink")
        return f"default route via {self.uplink}; {self.hostnames[node.name]} resolves"


def ping_matrix(step: Network, *, by: str = "address"):
    """Every node pings every other, by cluster address or by name (a table)."""
    targets = {n: (step.addresses[n] if by == "address" else step.hostnames[n]) for n in step.names}
    return matrix(step.cluster, step.names, targets, 'ping -c 1 -W 2 "$T"', title=f"ping by {by}")


def _b(text: str | None) -> bytes | None:
    return None if text is None else text.encode()
