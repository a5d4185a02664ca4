"""The fstab guard: a candidate ``/etc/fstab`` is checked whole before it may replace a node's.

A line in fstab that cannot be mounted can stop a board from booting (it drops
to an emergency shell, with no network to reach it). So before any fstab is
installed, the whole candidate file is checked twice:

- by ``findmnt --verify --tab-file`` (util-linux), on the node itself where its
  Platform checks there (its devices and mount points are there), else on this machine;
- by our own checks for what findmnt lets through: a field count other than
  4 to 6, a relative mount point, an unknown file-system type (findmnt only
  warns), an unknown mount option (findmnt does not look), a mount point
  given twice.

Only problems the candidate *adds* refuse it: an error the current fstab
already has (an entry for a disk this machine does not have) is reported, not
blamed on the step; a missing mount point that the step itself creates is
expected. A refused candidate is never installed, so the node's fstab stays
byte-identical.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from .base import StepError

#: File-system types a Raspberry Pi OS or Debian fstab may name.
FS_TYPES = frozenset("""ext2 ext3 ext4 vfat exfat ntfs ntfs3 xfs btrfs f2fs iso9660 udf squashfs erofs
nfs nfs4 cifs smb3 sshfs fuse fuse.sshfs tmpfs ramfs swap proc sysfs devpts devtmpfs overlay
bind none auto cgroup cgroup2 debugfs securityfs hugetlbfs mqueue autofs 9p virtiofs zfs""".split())
#: Options every file system takes (mount(8), "FILESYSTEM-INDEPENDENT MOUNT OPTIONS", and systemd's).
GENERIC = frozenset("""defaults rw ro auto noauto user nouser users owner group nofail _netdev
async sync dirsync atime noatime diratime nodiratime relatime norelatime strictatime nostrictatime
lazytime nolazytime dev nodev exec noexec suid nosuid mand nomand silent loud remount bind rbind
sw pri discard nosymfollow iversion noiversion""".split())
#: Options that take a value (``name=value``), generic or per type.
VALUED = frozenset("""x-systemd.device-timeout x-systemd.mount-timeout x-systemd.idle-timeout
x-systemd.requires x-systemd.requires-mounts-for x-systemd.before x-systemd.after x-systemd.wanted-by
x-systemd.required-by x-systemd.wants-mounts-for comment pri context fscontext defcontext rootcontext
uid gid umask dmask fmask mode size nr_inodes codepage iocharset errors commit data
rsize wsize timeo retrans vers nfsvers proto port mountport mountproto sec actimeo acregmin acregmax
acdirmin acdirmax namlen clientaddr lookupcache local_lock nconnect retry subvol subvolid compress
username password credentials domain""".split())
#: Options without a value that only some types take.
TYPE_FLAGS = {
    "nfs": frozenset("soft hard intr nointr bg fg ac noac cto nocto lock nolock acl noacl rdirplus "
                     "nordirplus sharecache nosharecache resvport noresvport fsc nofsc tcp udp".split()),
    "tmpfs": frozenset(),
    "vfat": frozenset("flush quiet showexec sys_immutable".split()),
    "ext4": frozenset("user_xattr nouser_xattr acl noacl nodelalloc delalloc barrier nobarrier".split()),
    "btrfs": frozenset("ssd nossd autodefrag noautodefrag".split()),
}
TYPE_FLAGS["nfs4"] = TYPE_FLAGS["nfs"]
SYSTEMD_FLAGS = frozenset({"x-systemd.automount", "x-systemd.makefs", "x-systemd.growfs", "x-systemd.rw-only",
                           "x-initrd.mount"})
SIZE = re.compile(r"^\d+(\.\d+)?(ms|s|min|h)?$|^infinity$")


@dataclass(frozen=True)
class Entry:
    """One mount line of an fstab."""

    line: int
    source: str
    target: str
    fstype: str
    options: tuple[str, ...]
    dump: int = 0
    passno: int = 0

    @property
    def text(self) -> str:
        return f"{self.source} {self.target} {self.fstype} {','.join(self.options)} {self.dump} {self.passno}"


@dataclass(frozen=True)
class Finding:
    """One problem found in a candidate: where (line, mount point), how bad, and what."""

    level: str            #: "error" or "warning"
    message: str
    line: int | None = None
    target: str = ""

    def __str__(self) -> str:
        where = " ".join(p for p in (f"line {self.line}" if self.line else "", self.target) if p)
        return f"{where or 'fstab'}: {self.message}"


def entries(text: str) -> list[Entry]:
    """The mount lines of an fstab that parse (comments and blank lines skipped)."""
    out = []
    for no, raw in enumerate(text.splitlines(), 1):
        fields = raw.split("#", 1)[0].split()
        if 4 <= len(fields) <= 6 and all(f.isdigit() for f in fields[4:]):
            nums = [int(f) for f in fields[4:]] + [0, 0]
            out.append(Entry(no, fields[0], fields[1], fields[2], tuple(fields[3].split(",")), nums[0], nums[1]))
    return out


def own_checks(text: str) -> list[Finding]:
    """What findmnt lets through: field count, relative mount point, unknown type or option, twice the same target."""
    found: list[Finding] = []
    seen: dict[str, int] = {}
    for no, raw in enumerate(text.splitlines(), 1):
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        if not 4 <= len(fields) <= 6:
            found.append(Finding("error", f"expected 4 to 6 fields (source, mount point, type, options, dump, "
                                          f"pass), found {len(fields)}", no))
            continue
        source, target, fstype, options = fields[:4]
        if any(not f.isdigit() for f in fields[4:]):
            found.append(Finding("error", "dump and pass must be numbers", no, target))
        if target != "none" and fstype != "swap" and not target.startswith("/"):
            found.append(Finding("error", f"mount point {target!r} is not an absolute path", no, target))
        if fstype not in FS_TYPES and not fstype.startswith("fuse."):
            near = _near(fstype, FS_TYPES)
            found.append(Finding("error", f"unknown file-system type {fstype!r}{near}", no, target))
        for opt in options.split(","):
            problem = option_problem(opt, fstype)
            if problem:
                found.append(Finding("error", problem, no, target))
        if target in seen and target not in ("none", "swap"):
            found.append(Finding("error", f"mount point {target} is already used on line {seen[target]}", no, target))
        seen.setdefault(target, no)
    return found


def option_problem(opt: str, fstype: str) -> str | None:
    """Why a mount option is not known for ``fstype`` (None when it is)."""
    if not opt:
        return "an empty mount option (two commas in a row?)"
    name, eq, value = opt.partition("=")
    if not eq:
        if name in GENERIC or name in SYSTEMD_FLAGS or name in TYPE_FLAGS.get(fstype, ()):
            return None
        if name.startswith("no") and name[2:] in TYPE_FLAGS.get(fstype, ()):
            return None
        if name in VALUED:
            return f"mount option {name!r} needs a value ({name}=…)"
        known = GENERIC | SYSTEMD_FLAGS | TYPE_FLAGS.get(fstype, frozenset())
        return f"unknown mount option {name!r} for {fstype}{_near(name, known)}"
    if name not in VALUED and not name.startswith(("x-systemd.", "x-")):
        return f"unknown mount option {name!r} for {fstype}{_near(name, VALUED)}"
    if not value:
        return f"mount option {name!r} has an empty value"
    if name.endswith("timeout") and not SIZE.match(value):
        return f"{name}={value}: not a time span (e.g. 10s)"
    if name in ("vers", "nfsvers") and value not in ("3", "4", "4.0", "4.1", "4.2"):
        return f"{name}={value}: NFS versions are 3, 4, 4.0, 4.1, 4.2"
    return None


#: Validates the candidate on stdin with findmnt, in a temporary file.
FINDMNT = ('t=$(mktemp) || exit 9; cat > "$t"; findmnt --verify --verbose --tab-file "$t"; rc=$?; '
           'rm -f "$t"; exit $rc')


def findmnt_check(text: str, *, node=None) -> list[Finding] | None:
    """``findmnt --verify --tab-file`` on the candidate, on ``node`` where its Platform checks there, else on
    this machine.

    None when findmnt is not there to ask.
    """
    return _findmnt(text, node)[0]


def _findmnt(text: str, node) -> tuple[list[Finding] | None, bool]:
    """findmnt's findings (None: no findmnt to ask), and whether they were found on the node."""
    r = None if node is None else node.platform.check_on_node(node, FINDMNT, stdin=text, timeout=30)
    if r is not None:
        if r.status not in ("ok", "failed") or "command not found" in r.stderr or r.exit_code == 127:
            return None, True
        return parse_findmnt(r.stdout, r.stderr), True
    if shutil.which("findmnt") is None:
        return None, False
    with tempfile.NamedTemporaryFile("w", prefix="clusterkit-fstab-", suffix=".tab") as f:
        f.write(text)
        f.flush()
        r = subprocess.run(["findmnt", "--verify", "--verbose", "--tab-file", f.name],
                           capture_output=True, text=True, timeout=30, check=False)
    return parse_findmnt(r.stdout, r.stderr), False


def parse_findmnt(stdout: str, stderr: str) -> list[Finding]:
    """findmnt's report as findings: parse errors, ``[E]`` errors and ``[W]`` warnings, each with its mount point."""
    found = []
    target = ""
    for line in stdout.splitlines():
        if line and not line.startswith(" "):
            target = line.strip()
            continue
        m = re.match(r"\s+\[([EW])\]\s+(.*)", line)
        if m:
            found.append(Finding("error" if m.group(1) == "E" else "warning", "findmnt: " + m.group(2), None, target))
    for m in re.finditer(r"parse error at line (\d+)", stderr):
        found.append(Finding("error", "findmnt: parse error (the line is ignored at boot)", int(m.group(1))))
    return found


@dataclass(frozen=True)
class Verdict:
    """The guard's answer for one candidate: what refuses it, and what was already wrong before."""

    new: list[Finding]
    already: list[Finding]
    checked_by: str

    @property
    def ok(self) -> bool:
        return not [f for f in self.new if f.level == "error"]


def check_candidate(old: str, new: str, *, node=None, creates: tuple[str, ...] = ()) -> Verdict:
    """Compare the findings of the candidate with those of the current fstab.

    ``creates``: mount points the step makes before it installs the candidate
    (findmnt's "target: No such file or directory" about them is expected).
    """
    mine_old = {_key(f) for f in own_checks(old)}
    mine_new = own_checks(new)
    fm_new, on_node = _findmnt(new, node)
    fm_old = findmnt_check(old, node=node) if fm_new is not None else None
    old_keys = mine_old | {_key(f) for f in (fm_old or [])}
    new_found, already = [], []
    for f in mine_new + (fm_new or []):
        if f.target in creates and "target" in f.message and "No such file" in f.message:
            continue
        (already if _key(f) in old_keys else new_found).append(f)
    where = ("findmnt --verify on the node" if on_node else
             "findmnt --verify on this machine (whose disks are not the node's)")
    checked_by = (where if fm_new is not None else "findmnt not found") + " and clusterkit's own checks"
    return Verdict(new_found, already, checked_by)


def guard(old: str, new: str, *, node_name: str, node=None, creates: tuple[str, ...] = ()) -> Verdict:
    """Raise :class:`StepError` (naming the node and ``/etc/fstab``) when the candidate adds an error."""
    verdict = check_candidate(old, new, node=node, creates=creates)
    if not verdict.ok:
        errors = [f for f in verdict.new if f.level == "error"]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise StepError(f"the candidate fstab is refused, nothing was installed: {errors[0]}{more}",
                        node=node_name, field="/etc/fstab")
    return verdict


def _key(f: Finding) -> tuple[str, str, str]:
    return (f.level, f.target, re.sub(r"line \d+", "", f.message))


def _near(word: str, known) -> str:
    import difflib
    m = difflib.get_close_matches(word, sorted(known), n=1)
    return f"; did you mean {m[0]!r}?" if m else ""
