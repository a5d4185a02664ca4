"""One lab node: its private file systems, its boot, its power commands, its process.

A node is a long-lived ``unshare --mount --uts --ipc --pid --fork --kill-child
--mount-proc`` process inside the node's network namespace, without the
capabilities to set the clock or load kernel modules. Its PID 1 (the boot
script below) overlay-mounts ``/etc``, ``/var``, ``/opt``, ``/srv``, ``/mnt`` and
``/media`` over the host's (writes land in the node's own upper directory,
never in the host's), binds a private ``/root`` and ``/home``, mounts a tmpfs on
``/run`` and ``/tmp``, makes the rest of the host's root file system, ``/sys``,
``/proc/sys`` (but its own network settings) and ``/proc/sysrq-trigger``
read-only, binds the workbook's venv in read-only (the host's own, live: what
its setup replaces reaches the node at once, where an overlay would go on
showing the old), sets the hostname from its ``/etc/hostname``, asks the venue
router for an address with dhclient and starts a real OpenSSH sshd.

A small supervisor loop in the host's PID namespace runs the node: when a
power command inside the node asks for a reboot, it boots the node again (its
files kept, like an SD card); a poweroff ends it. Nothing a node runs reaches
the host's files, hostname, clock or power state.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .bootmounts import DONE as MOUNTS_DONE
from .image import FRESH, SSHD_CONFIG, FreshImage, account_files

#: Host directories a node sees through an overlay of its own (the boot script mounts the same list).
OVERLAID = ("etc", "var", "opt", "srv", "mnt", "media")

#: Where ``systemctl enable`` records a unit that the boot starts (the boot script reads it).
WANTS = "/etc/systemd/system/multi-user.target.wants"

#: Exit codes of a node's PID 1 that the supervisor understands.
EXIT_POWEROFF, EXIT_REBOOT = 100, 101

def supervise(pid1: str, *, what: str = "one lab node", args: str = 'S="$1"; L="$2"', before: str = "") -> str:
    """A node's supervisor script: ``before`` once, then boots the node (``pid1``: the command that starts its
    PID 1, with what puts it in the node's namespaces) again after a reboot inside it, and ends after a poweroff.
    Each kind of namespace lab differs only in ``pid1`` (and its arguments)."""
    return f"""\
# Runs {what}; boots it again after a reboot inside it, ends after a poweroff.
{args}
{before}while :; do
    # Beside each boot, from the host: the worker's NFS mount from its fstab line (bootmounts.py).
    "$L/python" "$L/bootmounts.py" "$S" "$$" &
    mounts=$!
    {pid1}
    rc=$?
    kill "$mounts" 2>/dev/null; wait "$mounts" 2>/dev/null
    echo "$rc" > "$S/last-exit"
    # 101: a reboot asked through the lab's power commands; 129: reboot(2) in a PID namespace (SIGHUP).
    [ "$rc" -eq 101 ] || [ "$rc" -eq 129 ] || exit "$rc"
done
"""


#: The supervisor, run as ``ip netns exec NS sh supervise.sh NODE_DIR BIN_DIR``. No process of the node may set
#: the host's clock or load kernel modules (its bounding set).
SUPERVISE = supervise('''setpriv --bounding-set -sys_time,-sys_module,-sys_rawio,-wake_alarm -- \\
    unshare --mount --uts --ipc --pid --fork --kill-child --mount-proc --propagation private \\
        /bin/sh "$L/boot.sh" "$S" "$L"''')

#: PID 1 of a lab node (its argv says clusterkit, which the power commands check).
BOOT = """\
# clusterkit lab node: PID 1 of the node's PID namespace.
S="$1"; L="$2"
set -e
# The workbook's venv (the folder "$L/venv" names), where it lies under an overlaid folder, is the host's own,
# live and read-only: an overlay keeps showing what it first found in its lower layer, so a package that the
# host's setup replaced would stay the old one in here, or an emptied folder.
V="$(cat "$L/venv" 2>/dev/null || true)"
case "$V" in /etc/?*|/var/?*|/opt/?*|/srv/?*|/mnt/?*|/media/?*) [ -d "$V" ] || V= ;; *) V= ;; esac
[ -z "$V" ] || exec 4<"$V"
# What a node writes lands in its own layers; the host's file systems are read-only in here.
for d in etc var opt srv mnt media; do
    if [ -d "/$d" ] && [ -d "$S/$d/upper" ]; then
        mount -t overlay overlay -o "lowerdir=/$d,upperdir=$S/$d/upper,workdir=$S/$d/work" "/$d"
    fi
done
if [ -n "$V" ]; then
    mount --no-canonicalize --bind /proc/self/fd/4 "$V" && mount -o remount,bind,ro "$V" \
        || echo "boot: could not share the workbook's venv $V"
    exec 4<&-
fi
mount -o remount,bind,ro /sys
mount --bind /proc/sys /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,ro /proc/sys
if [ -e /proc/sysrq-trigger ]; then
    mount --bind /proc/sysrq-trigger /proc/sysrq-trigger
    mount -o remount,bind,ro /proc/sysrq-trigger
fi
mount --bind "$S/root" /root
mount --bind "$S/home" /home
mount -t tmpfs -o mode=1777,size=512m tmpfs /tmp
# The lab's directory lies under the host's /run, hidden once the node has its own:
# keep the power commands open and bind them through the open file.
exec 3<"$L/power"
mount -t tmpfs -o mode=755,size=64m tmpfs /run
mkdir -p /run/sshd /run/lock /run/clusterkit
if [ -f /usr/bin/systemctl ]; then
    : > /run/clusterkit/systemctl
    mount --bind /usr/bin/systemctl /run/clusterkit/systemctl
    mount --no-canonicalize --bind /proc/self/fd/3 /usr/bin/systemctl
fi
for f in /usr/sbin/poweroff /usr/sbin/reboot /usr/sbin/halt /usr/sbin/shutdown; do
    if [ -f "$f" ] && [ ! -L "$f" ]; then mount --no-canonicalize --bind /proc/self/fd/3 "$f"; fi
done
exec 3<&-
mount -o remount,bind,ro /
name="$(head -n1 /etc/hostname 2>/dev/null || true)"
hostname "${name:-raspberrypi}"
ip link set lo up
ip link set eth0 up
ip link set wlan0 up
dhclient -4 -nw -pf /run/dhclient.wlan0.pid -lf /var/lib/dhcp/dhclient.wlan0.leases wlan0 >/dev/null 2>&1
set +e
# The bind lines of /etc/fstab (the lab's NFS server keeps its folder in /home), as a board mounts its fstab.
# A worker's nfs line is mounted from the host once its server is up (bootmounts.py).
[ -f /etc/fstab ] && while read -r src dst type opts rest; do
    case "$src" in ""|\\#*) continue ;; esac
    case ",$opts," in
        *,bind,*) mount --bind "$src" "$dst" || echo "boot: could not bind $src at $dst (/etc/fstab)" ;;
    esac
done < /etc/fstab
# What `systemctl enable` enabled (its links in multi-user.target.wants), started as systemd would.
# The same commands as the setup steps' in the lab (notebooks 04 and 05): chronyd never sets the clock (-x).
wants=/etc/systemd/system/multi-user.target.wants
enabled() { [ -L "$wants/$1.service" ] || [ -e "$wants/$1.service" ]; }
if enabled ssh; then
    /usr/sbin/sshd || echo "boot: sshd did not start"
fi
if enabled chrony; then
    install -d -m 755 /run/chrony /var/lib/chrony
    chronyd -x -f /etc/chrony/chrony.conf || echo "boot: chronyd did not start"
fi
if enabled nfs-ganesha; then
    mkdir -p /var/lib/nfs/ganesha /var/log/ganesha /run/ganesha
    ganesha.nfsd -f /etc/ganesha/ganesha.conf -L /var/log/ganesha/ganesha.log -p /run/ganesha.pid \\
        || echo "boot: nfs-ganesha did not start"
fi
# unfs3 (NFSv3; a lab in a user namespace, where nfs-ganesha cannot serve): rpcbind first, as the step starts them.
if enabled unfs3; then
    rpcbind -w || echo "boot: rpcbind did not start"
    /usr/local/sbin/unfsd -e /etc/exports -i /run/unfsd.pid || echo "boot: unfsd did not start"
fi
# Slurm (notebook 10): munged first, then the controller, then slurmd; the same commands as the step's in the lab.
if enabled munge; then
    install -d -o munge -g munge -m 755 /run/munge
    runuser -u munge -- /usr/sbin/munged || echo "boot: munged did not start"
fi
# Accounting (notebook 11): MariaDB, then slurmdbd, before the controller that reports to it.
if enabled mariadb; then
    install -d -o mysql -g mysql -m 755 /run/mysqld /var/log/mysql && { [ -e /var/lib/mysql/mysql/db.frm ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null; }
    setsid -f /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid </dev/null >>/var/log/mysql/error.log 2>&1 || \\
        echo "boot: mariadb did not start"
    for i in $(seq 100); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
if enabled slurmdbd; then
    install -d -o slurm -g slurm -m 755 /var/log/slurm
    slurmdbd || echo "boot: slurmdbd did not start"
    for i in $(seq 100); do ss -Hltn 'sport = :6819' | grep -q 6819 && break; sleep 0.1; done
fi
if enabled slurmctld; then
    install -d -o slurm -g slurm -m 755 /var/lib/slurm/slurmctld /var/log/slurm
    slurmctld || echo "boot: slurmctld did not start"
fi
if enabled slurmd; then
    install -d -m 755 /var/lib/slurm/slurmd /var/lib/slurm/no-cgroup
    slurmd || echo "boot: slurmd did not start"
fi
: > /run/clusterkit/booted
trap 'exit 100' USR1
trap 'exit 101' USR2
while :; do sleep 86400 & wait $!; done
"""

#: Bound over systemctl (and any real poweroff/reboot/halt/shutdown) inside a node only.
POWER = """\
#!/bin/sh
# clusterkit lab: power commands inside a lab node stop or restart this node only.
me="${0##*/}"
action=
case "$me" in
    poweroff|halt) action=poweroff ;;
    reboot) action=reboot ;;
    shutdown)
        action=poweroff
        for a in "$@"; do
            case "$a" in -c) exit 0 ;; --reboot|-r|-r*) action=reboot ;; esac
        done ;;
    *)
        verb=
        for a in "$@"; do case "$a" in -*) ;; *) verb="$a"; break ;; esac; done
        case "$verb" in
            poweroff|halt) action=poweroff ;;
            reboot) action=reboot ;;
            *) exec /run/clusterkit/systemctl "$@" ;;
        esac ;;
esac
if [ "$(id -u)" != 0 ]; then
    echo "$me: Interactive authentication required (run it with sudo)." >&2
    exit 1
fi
# Only ever signal the init of a lab node's own PID namespace.
if [ "$(readlink /proc/self/ns/pid)" != "$(readlink /proc/1/ns/pid)" ] || \\
   ! tr '\\0' ' ' < /proc/1/cmdline | grep -q clusterkit; then
    echo "$me: not inside a clusterkit lab node; refusing" >&2
    exit 1
fi
sync
sig=USR1
[ "$action" = reboot ] && sig=USR2
setsid sh -c "sleep 0.3; kill -$sig 1" </dev/null >/dev/null 2>&1 &
exit 0
"""


def write_scripts(bin_dir: Path) -> None:
    """The lab's scripts (shared by its nodes, read-only to them; hidden from them under the host's /run)."""
    bin_dir.mkdir(mode=0o755, exist_ok=True)
    here = Path(__file__).parent
    for name, text, mode in (("supervise.sh", SUPERVISE, 0o644), ("boot.sh", BOOT, 0o644),
                             ("power", POWER, 0o755), ("bootmounts.py", (here / "bootmounts.py").read_text(), 0o644),
                             ("bindns.py", (here / "bindns.py").read_text(), 0o644)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(mode)
    python = bin_dir / "python"
    python.unlink(missing_ok=True)
    python.symlink_to(sys.executable)
    # The venv the nodes run (the inventory's python: this one's), shared live with them by the boot script.
    (bin_dir / "venv").write_text(sys.prefix if sys.prefix != sys.base_prefix else "")


@dataclass(frozen=True)
class HostKey:
    """A node's own ed25519 host key, made at ``lab up`` (so the lab can trust it from the start)."""

    private: bytes = b""
    public: str = ""

    @classmethod
    def generate(cls, comment: str) -> "HostKey":
        # imported here: only making a lab needs it, and ``clusterkit`` starts without it
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                    serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
        return cls(private=private, public=f"{public} {comment}")

    def __repr__(self) -> str:
        return f"<HostKey {self.public.split()[0]}>"


def _whiteout(path: Path) -> None:
    """Hide the host's file at this path from the node (an overlayfs whiteout in the upper layer)."""
    if not path.exists():
        os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))


def _write(path: Path, text: str | bytes, mode: int = 0o644, owner: tuple[int, int] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    path.chmod(mode)
    if owner:
        os.chown(path, *owner)


def _skel(home: Path, owner: tuple[int, int]) -> None:
    for entry in Path("/etc/skel").iterdir() if Path("/etc/skel").is_dir() else ():
        if entry.is_file():
            shutil.copyfile(entry, home / entry.name)
            os.chown(home / entry.name, *owner)


def prepare(node_dir: Path, *, uid: int, hash_: str, key: HostKey, image: FreshImage = FRESH) -> None:
    """Lay out a node's private directories in the fresh-image state (before its first boot)."""
    for layer in OVERLAID:
        for sub in ("upper", "work"):
            (node_dir / layer / sub).mkdir(parents=True, exist_ok=True)
    (node_dir / "home").mkdir(exist_ok=True)
    (node_dir / "root").mkdir(mode=0o700, exist_ok=True)
    etc = node_dir / "etc/upper"
    for name, text in account_files(host_etc="/etc", uid=uid, password_hash=hash_, image=image).items():
        secret = name in ("shadow", "gshadow")
        _write(etc / name, text, 0o640 if secret else 0o644, (0, _gid("shadow")) if secret else None)
    _write(etc / "hostname", image.hostname + "\n")
    _write(etc / "hosts", image.hosts_file())
    _write(etc / "resolv.conf", "")
    ssh = etc / "ssh"
    ssh.mkdir(exist_ok=True)
    _write(ssh / "ssh_host_ed25519_key", key.private, 0o600)
    _write(ssh / "ssh_host_ed25519_key.pub", key.public + "\n")
    for host_file in Path("/etc/ssh").glob("ssh_host_*"):
        _whiteout(ssh / host_file.name)   # the host's own keys never show inside a node
    if _maybe_exists(Path("/etc/munge/munge.key")):   # nor the host's Munge key: a cluster makes its own (notebook 10)
        host = Path("/etc/munge").stat()
        owner = (host.st_uid, host.st_gid)
        if owner[0] == _OVERFLOW_ID:   # inside a normal user's lab namespace the host's munge is not mapped:
            owner = _account("munge", owner)   # the image keeps the host's numeric ids, so take the account's
        (etc / "munge").mkdir(exist_ok=True)
        os.chown(etc / "munge", *owner)
        (etc / "munge").chmod(host.st_mode & 0o7777)
        _whiteout(etc / "munge" / "munge.key")
    _write(ssh / "sshd_config", SSHD_CONFIG)
    # What the image enables at boot, and nothing of the host's (its chrony, NFS server, …, their aliases):
    # the node's /etc/systemd/system is an opaque directory holding only the image's links.
    system = etc / "systemd/system"
    system.mkdir(parents=True, exist_ok=True)
    try:
        os.setxattr(system, "trusted.overlay.opaque", b"y")
    except PermissionError:   # inside a user namespace (a normal user's lab): overlays read the user.* one
        os.setxattr(system, "user.overlay.opaque", b"y")
    wants = etc / WANTS.removeprefix("/etc/")
    wants.mkdir(exist_ok=True)
    for unit, aliases in image.enabled:
        (wants / unit).symlink_to(f"/lib/systemd/system/{unit}")
        for alias in aliases:
            (system / alias).symlink_to(f"/lib/systemd/system/{unit}")
    (ssh / "sshd_config.d").mkdir(exist_ok=True)
    for drop_in in Path("/etc/ssh/sshd_config.d").glob("*"):
        _whiteout(ssh / "sshd_config.d" / drop_in.name)
    home = node_dir / "home" / image.user
    home.mkdir(mode=0o700, exist_ok=True)
    os.chown(home, uid, uid)
    _skel(home, (uid, uid))
    _skel(node_dir / "root", (0, 0))


#: The id a file of an unmapped owner shows inside a user namespace (``/proc/sys/kernel/overflowuid``).
_OVERFLOW_ID = 65534


def _account(name: str, default: tuple[int, int]) -> tuple[int, int]:
    import pwd
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return default
    return entry.pw_uid, entry.pw_gid


def _maybe_exists(path: Path) -> bool:
    """The host has ``path``, or may have it behind a folder this process cannot search (a normal user's lab)."""
    try:
        return path.exists()
    except PermissionError:
        return True


def _gid(group: str) -> int:
    import grp
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return 0


def start(*, ns: str, node_dir: Path, bin_dir: Path) -> procs.Proc:
    """Boot the node; returns its supervisor (the leader of the node's process group)."""
    (node_dir / "last-exit").unlink(missing_ok=True)
    (node_dir / MOUNTS_DONE).unlink(missing_ok=True)
    with open(node_dir / "console.log", "ab") as log:
        return procs.spawn(["ip", "netns", "exec", ns, "/bin/sh", str(bin_dir / "supervise.sh"),
                            str(node_dir), str(bin_dir)], log=log)


def stop(supervisor: procs.Proc | None) -> None:
    """Pull the plug: SIGKILL the node's process group (supervisor, unshare, PID 1; the rest die with its PID namespace)."""
    if supervisor is not None and procs.alive(supervisor):
        try:
            os.killpg(supervisor.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def init_pid(supervisor: procs.Proc | None) -> int | None:
    """The host's pid of the node's PID 1 (for ``nsenter -t PID -a``), or None when the node is off."""
    if not procs.alive(supervisor):
        return None
    for unshare in procs.children(supervisor.pid):
        kids = procs.children(unshare)
        if kids:
            return kids[0]
    return None

