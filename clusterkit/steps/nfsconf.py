"""What the NFS step writes: the export line and the fstab line (a lab's NFS server's own files are the lab's).

Each is rendered from the step's arguments and checked here, offline, so a bad
argument is refused before any node is read or touched.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re

from .base import StepError
from ..backends.platform import managed_exports
from .blocks import without_block

#: exports(5) options without a value.
EXPORT_FLAGS = frozenset("""rw ro sync async subtree_check no_subtree_check root_squash no_root_squash
all_squash no_all_squash secure insecure wdelay no_wdelay hide nohide crossmnt no_acl mountpoint
pnfs no_pnfs security_label""".split())
#: exports(5) options that take a value.
EXPORT_VALUED = frozenset("anonuid anongid fsid sec mp refer replicas".split())
#: Pairs that contradict each other.
CONFLICTS = (("rw", "ro"), ("sync", "async"), ("root_squash", "no_root_squash"), ("all_squash", "no_all_squash"),
             ("subtree_check", "no_subtree_check"), ("secure", "insecure"))
#: What every export here carries (exports(5)): writable, written to disk before the answer, no subtree checks.
BASE_EXPORT = ("rw", "sync", "no_subtree_check")
#: Where a shared folder must not go: the system's own trees.
SYSTEM_DIRS = ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/run", "/sbin", "/sys", "/usr", "/var",
               "/tmp", "/root")
#: The fstab options that keep a node booting when the server is away.
SAFE_MOUNT = ("rw", "nofail", "_netdev", "x-systemd.automount", "x-systemd.mount-timeout=10s")
EXPORTS_BEGIN, EXPORTS_END = "# BEGIN clusterkit nfs", "# END clusterkit nfs"
FSTAB_MARK = "# clusterkit nfs: the cluster's shared folder (nofail: a missing server never stops the boot)"
#: The learners' home folders (:class:`~clusterkit.steps.homes.SharedHomes`): a block and a mark of their own.
HOMES_BEGIN, HOMES_END = "# BEGIN clusterkit nfs-homes", "# END clusterkit nfs-homes"
HOMES_MARK = "# clusterkit nfs: the learners' home folders (nofail: a missing server never stops the boot)"
#: Every fstab mark the NFS steps write (a line they own follows each).
MARKS = (FSTAB_MARK, HOMES_MARK)


def check_path(value, *, fld: str, where: str) -> str:
    """An absolute, normalised path outside the system's own directories."""
    if not isinstance(value, str) or not value:
        raise StepError("is missing: give an absolute path such as /srv/shared", node=where, field=fld)
    if not value.startswith("/"):
        raise StepError(f"{value!r} is relative; give an absolute path such as /srv/shared", node=where, field=fld)
    if re.search(r"[\s#,\\:]", value) or "//" in value or value != posixpath.normpath(value):
        raise StepError(f"{value!r} is not a plain path (no spaces, '#', ',', ':', '..' or '//')", node=where, field=fld)
    if value in SYSTEM_DIRS or any(value == d or value.startswith(d + "/") for d in ("/proc", "/sys", "/dev", "/etc",
                                                                                      "/usr", "/boot", "/run")):
        raise StepError(f"{value} is a system directory; share a folder of its own such as /srv/shared",
                        node=where, field=fld)
    return value


def check_clients(value, *, where: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.IPv4Network(str(value), strict=True)
    except ValueError as e:
        raise StepError(f"{value!r} is not a subnet in CIDR form such as 10.0.0.0/24 ({e})", node=where,
                        field="clients") from None
    if net.prefixlen < 8 or net.is_global or net.is_loopback:
        raise StepError(f"{net} is not a private cluster subnet (never export to the world)", node=where,
                        field="clients")
    return net


def export_options(extra: tuple[str, ...], *, root_squash: bool, where: str,
                   server_needs: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The export's options: the base three, root squashing unless asked otherwise, then ``extra`` (checked),
    then what the nodes' NFS server needs (``server_needs``: ``insecure`` for a user-namespace lab's unfs3)."""
    if isinstance(extra, str):
        extra = tuple(o for o in extra.split(",") if o)
    for need in server_needs:
        opposite = next((a if b == need else b for a, b in CONFLICTS if need in (a, b)), None)
        if opposite in extra:
            raise StepError(f"{opposite!r} cannot be: this cluster's NFS server needs {need!r}", node=where,
                            field="export_options")
    extra = tuple(extra) + tuple(server_needs)
    opts = list(BASE_EXPORT) + ["root_squash" if root_squash else "no_root_squash"]
    for o in extra:
        name, eq, value = str(o).partition("=")
        if (eq and (name not in EXPORT_VALUED or not value)) or (not eq and name not in EXPORT_FLAGS):
            raise StepError(f"{o!r} is not an exports(5) option", node=where, field="export_options")
        if name in ("root_squash", "no_root_squash"):
            raise StepError("say root_squash=True/False instead of giving it as an option", node=where,
                            field="export_options")
        if o not in opts:
            opts.append(o)
    for a, b in CONFLICTS:
        if a in opts and b in opts:
            raise StepError(f"{a!r} and {b!r} contradict each other", node=where, field="export_options")
    return tuple(opts)


def exports_text(old: str, *, export: str, clients: str, options: tuple[str, ...],
                 markers: tuple[str, str] = (EXPORTS_BEGIN, EXPORTS_END),
                 what: str = "the cluster's shared folder") -> str:
    """``/etc/exports`` with the managed block between ``markers`` replaced (or added); other lines (another
    step's block among them) kept."""
    begin, end = markers
    lines = old.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == begin or line.startswith(begin + " ")), None)
    keep = without_block(old, begin, end)
    managed = {path for path, _, _ in managed_exports(old)}
    for line in keep:
        fields = line.split("#", 1)[0].split()
        if fields and fields[0] == export:
            owner = "another clusterkit step" if export in managed else "a line clusterkit did not write"
            raise StepError(f"{export} is already exported by {owner}: {line.strip()!r}", field="export")
    block = [f"{begin} ({what}; replaced when the nfs step runs)",
             f"{export} {clients}({','.join(options)})", end]
    if start is not None:      # replaced where it stands: the lines around it (another step's block) as they were
        stop = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == end), len(lines) - 1)
        return "\n".join(lines[:start] + block + lines[stop + 1:]) + "\n"
    return "\n".join(keep + ([""] if keep else []) + block) + "\n"


def nfs_type(version: int) -> str:
    """The fstab type of an NFS mount at ``version``: ``nfs4``, or ``nfs`` (which takes ``vers=``)."""
    return "nfs4" if version == 4 else "nfs"


def mount_options(extra: tuple[str, ...], *, version: int = 4) -> tuple[str, ...]:
    """A worker's fstab options: the safe ones, ``vers=3`` for an NFSv3 server, then ``extra`` (checked before)."""
    safe = SAFE_MOUNT + (() if version == 4 else (f"vers={version}",))
    return safe + tuple(o for o in extra if o not in safe)


def fstab_line(*, server: str, export: str, mount: str, options: tuple[str, ...], version: int = 4) -> str:
    return f"{server}:{export} {mount} {nfs_type(version)} {','.join(options)} 0 0"


def fstab_text(old: str, *, line: str, mount: str, node: str, mark: str = FSTAB_MARK) -> str:
    """``/etc/fstab`` with our line for ``mount`` replaced (or added after ``mark``, a comment saying why); the
    lines another NFS step wrote for another mount point are kept."""
    lines = old.splitlines()
    out, i, at = [], 0, None
    while i < len(lines):
        cur = lines[i]
        if cur.strip() in MARKS:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            owned = nxt.split("#", 1)[0].split() if not nxt.lstrip().startswith("#") else []
            if cur.strip() == mark or (len(owned) > 1 and owned[1] == mount):
                at = len(out) if at is None else at     # ours: replaced where it stands
                i += 2 if owned else 1
                continue
            out += [cur] + ([nxt] if owned else [])
            i += 2 if owned else 1
            continue
        fields = cur.split("#", 1)[0].split()
        if len(fields) > 1 and fields[1] == mount:
            raise StepError(f"fstab already mounts something at {mount} (line {i + 1}: {cur.strip()!r}); "
                            "choose another mount point or remove that line", node=node, field="mount")
        out.append(cur)
        i += 1
    if at is not None:
        return "\n".join(out[:at] + [mark, line] + out[at:]) + "\n"
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out + [mark, line]) + "\n"
