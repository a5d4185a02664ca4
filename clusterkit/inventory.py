"""The inventory: which nodes a cluster has, how to reach them, and its networks.

An inventory is a YAML file (see ``data/default.yaml``) or a plain hosts file
with one ``[user@]host[:port]`` a line, as parallel-ssh's ``-h`` takes. Every
field is checked before anything runs; a bad one raises
:class:`~clusterkit.errors.InventoryError` naming the file, the field and the node.
"""

from __future__ import annotations

import html
import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

import yaml
from ClusterShell.NodeSet import NodeSet

from .backends.registry import choices as backend_choices
from .errors import InventoryError
from .validate import (CONNECT_HOST_RE, HOSTNAME_RE, INTERFACE_RE, assign_addresses, check_keys, check_name,
                       check_user, expand, node_names, port_number)

DEFAULT_INVENTORY = Path(__file__).with_name("data") / "default.yaml"

#: Top-level keys of a YAML inventory, each documented where it is read below.
TOP_KEYS = (
    "name", "nodes", "primary", "user", "port", "network", "interface",
    "uplink", "hosts", "password", "backend", "python",
)
#: Keys allowed in a per-node override under ``hosts:``.
NODE_KEYS = ("address", "host", "port", "user")

@dataclass(frozen=True)
class NodeSpec:
    """One node of the inventory.

    ``address`` is the node's static address on the wired cluster network
    (None when the inventory has no cluster network); ``host`` is where SSH
    connects (an address or a name), by default the cluster address, else the
    node's name.
    """

    name: str
    host: str
    port: int = 22
    user: str | None = None
    address: str | None = None
    primary: bool = False

    def __repr__(self) -> str:
        # Like fabric's Connection: show only what differs from the defaults.
        parts = [self.name]
        if self.host != self.name:
            parts.append(f"host={self.host}")
        if self.port != 22:
            parts.append(f"port={self.port}")
        if self.user:
            parts.append(f"user={self.user}")
        if self.address and self.address != self.host:
            parts.append(f"address={self.address}")
        if self.primary:
            parts.append("primary")
        return f"<NodeSpec {' '.join(parts)}>"


@dataclass(frozen=True)
class Inventory:
    """A validated cluster description. Build it with :func:`load_inventory` or :func:`parse_inventory`."""

    name: str
    nodes: Mapping[str, NodeSpec]
    primary: str
    network: ipaddress.IPv4Network | None = None
    interface: str = "eth0"      #: the wired cluster interface on every node
    uplink: str = "wlan0"        #: the Wi-Fi uplink that keeps DHCP and the default route
    backend: str = "auto"        #: the backend this inventory is meant for
    python: str = "python3"      #: the Python on the nodes (engines, agent)
    source: str = "<memory>"
    password: str | None = field(default=None, repr=False)  #: the image's login password; never shown

    @property
    def nodeset(self) -> NodeSet:
        return NodeSet.fromlist(list(self.nodes))

    @property
    def workers(self) -> list[str]:
        return [n for n in self.nodes if n != self.primary]

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes.values())

    def __getitem__(self, name: str) -> NodeSpec:
        return self.nodes[name]

    def select(self, nodes: str | Iterable[str] | None = None, *, exclude: str | Iterable[str] | None = None) -> list[str]:
        """Node names matching ``nodes`` (a NodeSet such as ``pc[1-3]``, or names) minus ``exclude``, in inventory order."""
        chosen = list(self.nodes) if nodes is None else expand(nodes, self.source, "nodes")
        unknown = [n for n in chosen if n not in self.nodes]
        if unknown:
            raise InventoryError(
                f"not in the inventory (it has {self.nodeset})", source=self.source,
                field="nodes", node=str(NodeSet.fromlist(unknown)))
        dropped = set(expand(exclude, self.source, "exclude")) if exclude else set()
        wanted = set(chosen) - dropped
        return [n for n in self.nodes if n in wanted]

    def with_nodes(self, specs: Iterable[NodeSpec]) -> "Inventory":
        """A copy with some node specs replaced (e.g. once a node's new address answers)."""
        nodes = dict(self.nodes)
        for spec in specs:
            nodes[spec.name] = spec
        return replace(self, nodes=nodes)

    def to_dict(self, *, include_password: bool = False) -> dict:
        """The YAML form; the password only when asked (to write a lab's own inventory)."""
        data: dict = {"name": self.name, "nodes": str(self.nodeset), "primary": self.primary}
        if self.network is not None:
            data["network"] = str(self.network)
        data.update(interface=self.interface, uplink=self.uplink, backend=self.backend, python=self.python)
        if include_password and self.password is not None:
            data["password"] = self.password
        hosts = {}
        for spec in self.nodes.values():
            entry = {}
            if spec.address:
                entry["address"] = spec.address
            if spec.host not in (spec.name, spec.address):
                entry["host"] = spec.host
            if spec.port != 22:
                entry["port"] = spec.port
            if spec.user:
                entry["user"] = spec.user
            if entry:
                hosts[spec.name] = entry
        if hosts:
            data["hosts"] = hosts
        return data

    def __repr__(self) -> str:
        net = f" network={self.network}" if self.network else ""
        return f"<Inventory {self.name!r} nodes={self.nodeset} primary={self.primary}{net}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
                s.name, "primary" if s.primary else "worker", s.address or "—",
                s.host, s.port, s.user or "—")) + "</tr>"
            for s in self.nodes.values())
        head = "".join(f"<th>{h}</th>" for h in ("node", "role", "cluster address", "ssh host", "port", "user"))
        net = f", network {html.escape(str(self.network))}" if self.network else ""
        return (f"<div><b>{html.escape(self.name)}</b>: {len(self)} nodes {html.escape(str(self.nodeset))}"
                f"{net}, uplink {html.escape(self.uplink)}"
                f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


# ---------------------------------------------------------------- loading

def load_inventory(path: str | os.PathLike | None = None) -> Inventory:
    """Load an inventory: ``path``, else ``$CLUSTERKIT_INVENTORY``, else the packaged four-node default."""
    path = path or os.environ.get("CLUSTERKIT_INVENTORY") or DEFAULT_INVENTORY
    path = Path(path).expanduser()
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InventoryError("no such file", source=source, field="file") from None
    except OSError as e:
        raise InventoryError(f"cannot read: {e.strerror}", source=source, field="file") from None
    text = _text(data, source)
    if path.suffix in (".yaml", ".yml"):
        return parse_inventory(text, source=source)
    return parse_hosts_file(text, source=source)


def _text(data: bytes, source: str) -> str:
    """An inventory file's text; a binary or non-UTF-8 file is refused in one line."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InventoryError("UTF-16 text: save it as UTF-8", source=source, field="file")
    if b"\0" in data:
        raise InventoryError("not a text file (it holds NUL bytes): is this the inventory?",
                             source=source, field="file")
    try:
        return data.decode("utf-8-sig")      # a UTF-8 byte order mark is dropped
    except UnicodeDecodeError as e:
        raise InventoryError(f"not a UTF-8 text file (byte 0x{data[e.start]:02x} at offset {e.start}): "
                             "is this the inventory?", source=source, field="file") from None


#: PyYAML contexts that name a token or flow collection opened at ``context_mark`` and never
#: closed: the mistake is where it opened, not where the parser gave up (often the next line).
_OPENED_AT_CONTEXT = ("while scanning a ", "while scanning an ", "while parsing a flow ")


def _yaml_error(e: yaml.YAMLError, source: str) -> InventoryError:
    """One line for a YAML syntax error, naming the 1-based line of the mistake."""
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    context = getattr(e, "context", None) or ""
    mark = getattr(e, "problem_mark", None)
    opened = getattr(e, "context_mark", None)
    if opened is not None and context.startswith(_OPENED_AT_CONTEXT) and (mark is None or opened.line < mark.line):
        # PyYAML's marks count lines from 0.
        what = context.split(" ", 2)[2]      # "while scanning a quoted scalar" -> "a quoted scalar"
        return InventoryError(f"not valid YAML: {problem} (in {what} that starts on this line)",
                              source=source, field=f"line {opened.line + 1}")
    where = f"line {mark.line + 1}" if mark is not None else "file"
    return InventoryError(f"not valid YAML: {problem}", source=source, field=where)


def parse_inventory(text: str, *, source: str = "<inventory>") -> Inventory:
    """Parse and validate the YAML form of an inventory."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise _yaml_error(e, source) from None
    if not isinstance(data, dict):
        raise InventoryError("must be a mapping of fields (name, nodes, primary, …)", source=source, field="file")
    return _from_mapping(data, source)


def parse_hosts_file(text: str, *, source: str = "<hosts>") -> Inventory:
    """Parse a plain hosts file: one ``[user@]host[:port]`` a line; ``#`` starts a comment."""
    nodes: dict[str, NodeSpec] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"line {lineno}"
        m = re.fullmatch(r"(?:([^@\s]+)@)?([^@:\s]+)(?::([^:\s]*))?", line)
        if not m:
            raise InventoryError(f"expected [user@]host[:port], got {line!r}", source=source, field=where)
        user, host, port = m.groups()
        if user is not None:
            check_user(user, source, where, host)
        check_name(host, source, where, connect=True)
        port_n = port_number(port, source, where, host) if port is not None else 22
        if host in nodes:
            raise InventoryError("duplicate node name", source=source, field=where, node=host)
        nodes[host] = NodeSpec(name=host, host=host, port=port_n, user=user)
    if not nodes:
        raise InventoryError("no hosts in the file", source=source, field="nodes")
    first = next(iter(nodes))
    nodes[first] = replace(nodes[first], primary=True)
    return Inventory(name=Path(source).stem or "hosts", nodes=nodes, primary=first, source=source)


def _from_mapping(data: dict, source: str) -> Inventory:
    check_keys(data, TOP_KEYS, source, "")
    name = data.get("name", Path(source).stem or "cluster")
    if not isinstance(name, str) or not HOSTNAME_RE.match(name):
        raise InventoryError(f"{name!r} is not a valid cluster name (letters, digits, '-')", source=source, field="name")

    if "nodes" not in data:
        raise InventoryError("missing: list the nodes, e.g. nodes: pc[0-3]", source=source, field="nodes")
    names = node_names(data["nodes"], source)
    for n in names:
        check_name(n, source, "nodes")

    primary = data.get("primary", names[0])
    if primary not in names:
        raise InventoryError(f"{primary!r} is not one of the nodes {NodeSet.fromlist(names)}",
                             source=source, field="primary", node=str(primary))

    user = data.get("user")
    if user is not None:
        check_user(user, source, "user")
    port = port_number(data.get("port", 22), source, "port")
    network = _network(data.get("network"), source)
    iface = _interfaces(data, source)

    backend = data.get("backend", "auto")
    if backend not in backend_choices():
        raise InventoryError(f"{backend!r} is not a backend; choose one of {', '.join(backend_choices())}",
                             source=source, field="backend")
    python = data.get("python", "python3")
    if not isinstance(python, str) or not python.strip():
        raise InventoryError("must name the Python on the nodes", source=source, field="python")
    password = data.get("password")
    if password is not None and not isinstance(password, str):
        raise InventoryError("must be a string (it is never shown)", source=source, field="password")

    overrides = _overrides(data.get("hosts") or {}, names, source)
    addresses = assign_addresses(names, primary, network, overrides, source)
    nodes = {n: _node_spec(n, overrides.get(n, {}), addresses.get(n), user=user, port=port,
                           primary=(n == primary), source=source) for n in names}
    return Inventory(name=name, nodes=nodes, primary=primary, network=network, source=source,
                     backend=backend, python=python, password=password, **iface)


def _network(value, source: str) -> ipaddress.IPv4Network | None:
    """The inventory's ``network`` (None when it names none), checked."""
    if value is None:
        return None
    try:
        network = ipaddress.IPv4Network(str(value), strict=True)
    except ValueError as e:
        raise InventoryError(f"{value!r} is not an IPv4 network in CIDR form ({e})",
                             source=source, field="network") from None
    if network.num_addresses < 4:
        raise InventoryError(f"{network} is too small for a cluster", source=source, field="network")
    return network


def _interfaces(data: dict, source: str) -> dict[str, str]:
    """The wired ``interface`` and the ``uplink`` (defaults eth0 and wlan0), checked and different."""
    iface = {}
    for key, default in (("interface", "eth0"), ("uplink", "wlan0")):
        value = data.get(key, default)
        if not isinstance(value, str) or not INTERFACE_RE.match(value):
            raise InventoryError(f"{value!r} is not an interface name", source=source, field=key)
        iface[key] = value
    if iface["interface"] == iface["uplink"]:
        raise InventoryError("the wired cluster interface and the uplink must differ",
                             source=source, field="uplink")
    return iface


def _overrides(overrides, names: list[str], source: str) -> dict:
    """The inventory's ``hosts`` mapping (node -> address, host, port, user), checked."""
    if not isinstance(overrides, dict):
        raise InventoryError("must map node names to {address, host, port, user}", source=source, field="hosts")
    for node, entry in overrides.items():
        if node not in names:
            raise InventoryError(f"names a node that is not in nodes ({NodeSet.fromlist(names)})",
                                 source=source, field="hosts", node=str(node))
        if not isinstance(entry, dict):
            raise InventoryError("must be a mapping of address, host, port, user",
                                 source=source, field=f"hosts.{node}", node=str(node))
        check_keys(entry, NODE_KEYS, source, f"hosts.{node}.", node=str(node))
    return overrides


def _node_spec(n: str, entry: dict, address, *, user: str | None, port: int, primary: bool,
               source: str) -> NodeSpec:
    """Node ``n`` from its ``hosts`` entry (may be empty) over the inventory's defaults."""
    host = entry.get("host", address or n)
    if not isinstance(host, str) or not CONNECT_HOST_RE.match(host):
        raise InventoryError(f"{host!r} is not a host name or address", source=source,
                             field=f"hosts.{n}.host", node=n)
    node_user = entry.get("user", user)
    if node_user is not None and "user" in entry:
        check_user(node_user, source, f"hosts.{n}.user", n)
    node_port = port_number(entry["port"], source, f"hosts.{n}.port", n) if "port" in entry else port
    return NodeSpec(name=n, host=host, port=node_port, user=node_user, address=address, primary=primary)
