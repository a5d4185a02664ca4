"""The inventory's fields one at a time: what a valid host name, user, interface, port, node set and address is.

One definition of each, raising :class:`~clusterkit.errors.InventoryError`
that names the file, the field and the node. :mod:`clusterkit.inventory`
validates a whole inventory with them; the steps check the names they write
with the same patterns (``HOSTNAME_RE``, ``INTERFACE_RE``).
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import re
import struct

from ClusterShell.NodeSet import NodeSet, NodeSetParseError

from .errors import InventoryError

#: A host name (one DNS label): letters, digits and '-', at most 63.
HOSTNAME_RE = re.compile(r"^(?=.{1,63}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")
#: Where SSH connects: a name, a dotted name or an address.
CONNECT_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$")
#: A user name as useradd takes it.
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
#: A network interface name (at most 15 characters).
INTERFACE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
#: Key types an OpenSSH 9 server accepts for users.
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")


def split_public_key(text: str) -> tuple[str, str, str]:
    """One OpenSSH public key line ``TYPE BASE64 [COMMENT]`` as (type, blob, comment).

    Checks a known type, valid base64, and that the blob names the same type;
    raises ValueError with a one-line reason (never the key material). The
    callers (``steps.keys``, ``firstboot``) wrap it in their error with the node and field.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("is empty; paste one line such as 'ssh-ed25519 AAAA… you@laptop'")
    if "PRIVATE KEY" in text:
        raise ValueError("this is a PRIVATE key: never share it; give the .pub file")
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != 1:
        raise ValueError(f"expected one key line, got {len(lines)}")
    parts = lines[0].split(None, 2)
    if len(parts) < 2:
        raise ValueError("expected 'TYPE BASE64 [COMMENT]'")
    ktype, blob = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) > 2 else ""
    if ktype not in KEY_TYPES:
        raise ValueError(f"unknown key type {ktype[:40]!r} (options before the key are not accepted here)")
    if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", blob):
        raise ValueError("the key is not valid base64")
    try:
        raw = base64.b64decode(blob, validate=True)
        (n,) = struct.unpack(">I", raw[:4])
        inner = raw[4:4 + n].decode("ascii")
    except (ValueError, struct.error, UnicodeDecodeError):
        raise ValueError("the key's data is damaged (not an OpenSSH key blob)") from None
    if inner != ktype:
        raise ValueError(f"the key says {ktype!r} but its data is {inner[:40]!r}")
    if ktype == "ssh-ed25519" and len(raw) != 51:
        raise ValueError("the ed25519 key has the wrong length (truncated when copied?)")
    return ktype, blob, comment


def node_names(value, source: str) -> list[str]:
    if isinstance(value, str):
        names = expand(value, source, "nodes")
    elif isinstance(value, list):
        names = []
        for item in value:
            if not isinstance(item, str):
                raise InventoryError(f"{item!r} is not a node name", source=source, field="nodes")
            names.extend(expand(item, source, "nodes"))
        seen = set()
        for n in names:
            if n in seen:
                raise InventoryError("duplicate node name", source=source, field="nodes", node=n)
            seen.add(n)
    else:
        raise InventoryError("must be a node set such as pc[0-3] or a list of names", source=source, field="nodes")
    if not names:
        raise InventoryError("the node set is empty", source=source, field="nodes")
    return names


def expand(value, source: str, field_name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [n for v in value for n in expand(v, source, field_name)]
    if not value.strip():
        return []
    try:
        return list(NodeSet(value))
    except NodeSetParseError as e:
        raise InventoryError(f"malformed node set {value!r}: {e}", source=source, field=field_name) from None


def assign_addresses(names, primary, network, overrides, source) -> dict[str, str]:
    """Explicit addresses are checked; the rest are handed out in order, primary first."""
    explicit: dict[str, str] = {}
    for n in names:
        if "address" not in overrides.get(n, {}):
            continue
        raw = overrides[n]["address"]
        fld = f"hosts.{n}.address"
        try:
            addr = ipaddress.IPv4Address(str(raw))
        except ValueError:
            raise InventoryError(f"{raw!r} is not an IPv4 address", source=source, field=fld, node=n) from None
        if network is not None:
            if addr not in network:
                raise InventoryError(f"{addr} is outside the cluster network {network}",
                                     source=source, field=fld, node=n)
            if addr in (network.network_address, network.broadcast_address):
                kind = "network" if addr == network.network_address else "broadcast"
                raise InventoryError(f"{addr} is the {kind} address of {network}", source=source, field=fld, node=n)
        for other, taken in explicit.items():
            if taken == str(addr):
                raise InventoryError(f"{addr} is already the address of {other}", source=source, field=fld, node=n)
        explicit[n] = str(addr)
    if network is None:
        return explicit
    used = set(explicit.values())
    free = (str(a) for a in network.hosts() if str(a) not in used)
    result = dict(explicit)
    for n in [primary] + [x for x in names if x != primary]:
        if n in result:
            continue
        try:
            result[n] = next(free)
        except StopIteration:
            raise InventoryError(f"{network} has no free address left for this node",
                                 source=source, field="network", node=n) from None
    return result


def check_keys(data: dict, allowed, source: str, prefix: str, node: str | None = None) -> None:
    for key in data:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(allowed)}"
            raise InventoryError(f"unknown key{hint}", source=source, field=f"{prefix}{key}", node=node)


def check_name(name: str, source: str, fld: str, *, connect: bool = False) -> None:
    pattern = CONNECT_HOST_RE if connect else HOSTNAME_RE
    if not pattern.match(name):
        raise InventoryError("not a valid host name (letters, digits and '-', at most 63)",
                             source=source, field=fld, node=name)


def check_user(user, source: str, fld: str, node: str | None = None) -> None:
    if not isinstance(user, str) or not USER_RE.match(user):
        raise InventoryError(f"{user!r} is not a valid user name (lower case, digits, '_', '-')",
                             source=source, field=fld, node=node)


def port_number(value, source: str, fld: str, node: str | None = None) -> int:
    try:
        port = int(value) if not isinstance(value, bool) and str(value).strip().isdigit() else None
    except ValueError:
        port = None
    if port is None or not 1 <= port <= 65535:
        raise InventoryError(f"{value!r} is not a port (1-65535)", source=source, field=fld, node=node)
    return port
