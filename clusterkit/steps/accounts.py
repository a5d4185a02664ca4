"""Account files (``/etc/passwd``, ``group``, ``shadow``, ``gshadow``) read and edited as text, and the X authority file.

What :mod:`.users` renders before its commands run, and what other steps read
(a person's UID on each node). Names follow Debian's rules.
"""

from __future__ import annotations

import re
import struct

from ..results import NodeResult

#: Debian's default NAME_REGEX for user and group names, 32 characters at most.
NAME = re.compile(r"^[a-z][-a-z0-9_]{0,31}$")
#: Debian's UID_MIN and UID_MAX for people (system accounts sit below).
UID_MIN, UID_MAX = 1000, 59999
#: Names that belong to the system or mean something to tools; never a person's login.
RESERVED = frozenset("""root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc
gnats nobody nogroup _apt sshd messagebus systemd-network systemd-resolve systemd-timesync avahi
polkitd statd chrony _chrony dnsmasq admin sudo adm wheel staff users operator ftp halt shutdown""".split())

def table(text: str) -> dict[str, list[str]]:
    """name -> fields of a colon file (passwd, group, shadow, gshadow)."""
    rows = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            fields = line.split(":")
            rows.setdefault(fields[0], fields)
    return rows


def edit(text: str, name: str, fn) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if line.split(":", 1)[0] == name:
            end = "\n" if line.endswith("\n") else ""
            line = ":".join(fn(line.rstrip("\n").split(":"))) + end
        out.append(line)
    return "".join(out)


def set_field(text: str, name: str, index: int, value: str) -> str:
    def change(fields):
        fields[index] = value
        return fields
    return edit(text, name, change)


def rename(text: str, old: str, new: str, *, home: str | None = None) -> str:
    def change(fields):
        fields[0] = new
        if home is not None:
            fields[5] = home
        return fields
    return edit(text, old, change)


def members(fields: list[str]) -> list[str]:
    return [m for m in fields[-1].split(",") if m]


def rename_member(text: str, old: str, new: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        fields = line.rstrip("\n").split(":")
        if len(fields) >= 4:
            for i in range(2 if len(fields) == 4 and not fields[2].isdigit() else 3, len(fields)):
                fields[i] = ",".join(new if m == old else m for m in fields[i].split(","))
            line = ":".join(fields) + ("\n" if line.endswith("\n") else "")
        out.append(line)
    return "".join(out)


def add_member(text: str, group: str, user: str) -> str:
    def change(fields):
        members = [m for m in fields[-1].split(",") if m]
        if user not in members:
            fields[-1] = ",".join(members + [user])
        return fields
    return edit(text, group, change)


def append_line(text: str, line: str) -> str:
    """``text`` with ``line`` added at its end (a new line first when it has none)."""
    return (text if not text or text.endswith("\n") else text + "\n") + line + "\n"


def usable(row: list[str] | None) -> bool:
    """Whether a shadow row has a password one can log in with."""
    return bool(row) and len(row) > 1 and row[1].startswith("$")


def stale_xauth(data: bytes, node_name: str) -> bool:
    """Whether an X authority file names a host other than ``node_name`` (the host was renamed)."""
    return any(host != node_name for host in xauth_hosts(data))


def xauth_hosts(data: bytes) -> list[str]:
    """The host names of the local entries of an ``.Xauthority`` file (family 256, FamilyLocal)."""
    hosts, i = [], 0
    try:
        while i + 2 <= len(data):
            (family,) = struct.unpack(">H", data[i:i + 2])
            i += 2
            fields = []
            for _ in range(4):
                (n,) = struct.unpack(">H", data[i:i + 2])
                fields.append(data[i + 2:i + 2 + n])
                i += 2 + n
            if family == 256:
                hosts.append(fields[0].decode("ascii", "replace"))
    except struct.error:
        return ["(unreadable)"]
    return hosts


def xauth_entry(host: str, display: str = "0") -> bytes:
    """One FamilyLocal MIT-MAGIC-COOKIE-1 entry, as the desktop writes on login (for tests and the lab image)."""
    parts = [host.encode(), display.encode(), b"MIT-MAGIC-COOKIE-1", bytes(16)]
    return struct.pack(">H", 256) + b"".join(struct.pack(">H", len(p)) + p for p in parts)


def sandbox_id(node, name: str):
    """``id`` as a node's sandbox files answer it (the local backend cannot run ``id`` there)."""
    users = table((node.read_file("/etc/passwd") or b"").decode())
    groups = table((node.read_file("/etc/group") or b"").decode())
    if name not in users:
        return NodeResult.failure(node.name, "error", f"id: '{name}': no such user", command=f"id {name}")
    uid, gid = users[name][2], users[name][3]
    gname = next((g for g, r in groups.items() if r[2] == gid), gid)
    extra = [f"{r[2]}({g})" for g, r in groups.items() if name in members(r) or g == gname]
    line = f"uid={uid}({name}) gid={gid}({gname}) groups={','.join(extra)}"
    return NodeResult.done(node.name, line, stdout=line + "\n", command=f"id {name}")
