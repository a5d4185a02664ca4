"""A node of a user-namespace lab (:mod:`.rootless`): its scripts, its image layer, its network namespace.

Every node runs in the lab's user namespace (:mod:`.userns`), so root on a node is an unprivileged uid of the
host, and it builds its own root: a tmpfs with overlays of the host's ``/usr`` and of the lab's image layer
(the host's ``/etc`` as any user may read it, ``/var``'s folders, the setuid programs, owned inside the
namespace), its own ``/srv``, ``/mnt``, ``/media``, ``/home`` and ``/root``, then ``pivot_root`` into it: no
host path is left in a node but ``/usr``, ``/opt`` (read-only) and ``/dev``.

Its network namespace is made inside the user namespace (so the node's root may set up its own links and
bind port 22) and named on the host (``ip netns attach``), so that host root plumbs it as today's lab.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import ClusterkitError
from . import node, procs, userns

#: The supervisor: as today's, but the node is entered as root of the lab's user namespace (``$3``).
SUPERVISE = node.supervise('''nsenter --user="$U" -- \\
    unshare --mount --uts --ipc --pid --cgroup --fork --kill-child --mount-proc --propagation private \\
        /bin/sh "$L/boot-userns.sh" "$S" "$L"''', what="one lab node in the lab's user namespace",
                           args='S="$1"; L="$2"; U="$3"')

#: PID 1 of a node: build the node's own root, pivot into it, then the network and services as today's.
BOOT = """\
# clusterkit lab node in a user namespace: PID 1, on a root of its own.
S="$1"; L="$2"; I="${L%/bin}/image"
set -e
V="$(cat "$L/venv" 2>/dev/null || true)"
case "$V" in /opt/?*) [ -d "$V" ] || V= ;; *) V= ;; esac
N="$S/rootfs"
mount -t tmpfs -o mode=755,size=16m rootfs "$N"
cd "$N"
mkdir -p usr etc var opt srv mnt media home root tmp run proc sys dev boot
for l in bin lib lib32 lib64 libx32 sbin; do [ -L "/$l" ] && ln -s "$(readlink "/$l")" "$l"; done
ov() { mount -t overlay overlay -o "userxattr,$1" "$2"; }
# The host's programs, read-only, with the image's setuid copies (owned by the node's root) on top.
ov "lowerdir=$I/usr:/usr" usr
for d in etc var; do ov "lowerdir=$I/$d,upperdir=$S/$d/upper,workdir=$S/$d/work" "$d"; done
ov "lowerdir=/opt,upperdir=$S/opt/upper,workdir=$S/opt/work" opt
# The workbook's venv, live and read-only (an overlay would go on showing what it first found).
[ -z "$V" ] || { mount --bind "$V" "opt${V#/opt}" && mount -o remount,bind,ro "opt${V#/opt}"; }
for d in srv mnt media; do mount --bind "$S/$d/upper" "$d"; done
mount --bind "$S/home" home
mount --bind "$S/root" root
mount -t tmpfs -o mode=1777,size=512m tmpfs tmp
mount -t tmpfs -o mode=755,size=64m tmpfs run
mount -t proc proc proc
mount -t sysfs -o ro sysfs sys
mount --rbind /dev dev
# The node's own shared memory (MPI's, POSIX semaphores): the host's /dev/shm is every process's on the host.
mount -t tmpfs -o mode=1777,nosuid,nodev,size=256m shm dev/shm
mkdir -p run/sshd run/lock run/clusterkit
# The power commands: the lab's own, bound over systemctl (kept at /run/clusterkit/systemctl) and the real ones.
: > run/clusterkit/systemctl
mount --bind usr/bin/systemctl run/clusterkit/systemctl
mount --bind "$L/power" usr/bin/systemctl
for f in usr/sbin/poweroff usr/sbin/reboot usr/sbin/halt usr/sbin/shutdown; do
    if [ -f "$f" ] && [ ! -L "$f" ]; then mount --bind "$L/power" "$f"; fi
done
mkdir -p .old
pivot_root . .old
cd /
umount -l /.old
rmdir /.old
mount -o remount,bind,ro /
name="$(head -n1 /etc/hostname 2>/dev/null || true)"
hostname "${name:-raspberrypi}"
ip link set lo up
ip link set eth0 up
ip link set wlan0 up
dhclient -4 -nw -pf /run/dhclient.wlan0.pid -lf /var/lib/dhcp/dhclient.wlan0.leases wlan0 >/dev/null 2>&1
""" + node.BOOT[node.BOOT.index("set +e\n"):]

#: The lab's image layer, made by host root (``$1`` the image folder, ``$2`` the holder's pid): what an
#: unprivileged user may read of the host (read as ``nobody``), written inside the namespace (host owners kept).
IMAGE = """\
set -o pipefail
I="$1"; IN="nsenter -t $2 --user -- tar -C $I --numeric-owner -xpf -"
AS="${3-setpriv --reuid=65534 --regid=65534 --clear-groups}"
cd /
$AS tar --numeric-owner --ignore-failed-read -cf - etc 2>/dev/null | $IN
find var -xdev -type d 2>/dev/null | $AS tar --numeric-owner --no-recursion -cf - -T - 2>/dev/null | $IN
# The folders tar could not open (0700 ones of a service, such as /var/log/munge): made from what stat says.
$AS find var -xdev -type d -printf '%m %U %G %p\n' 2>/dev/null | nsenter -t "$2" --user -- sh -c \
    'cd "$1" && while read -r m u g p; do [ -d "$p" ] || { mkdir -p "$p" && chown "$u:$g" "$p" && chmod "$m" "$p"; }; done' sh "$I"
{ find usr -xdev -perm -4000 -type f 2>/dev/null; [ -d usr/libexec/sudo ] && echo usr/libexec/sudo; } \\
    | $AS tar --numeric-owner -cf - -T - 2>/dev/null | $IN
nsenter -t "$2" --user -- sh -c 'mkdir -p "$1/usr"; umask 337; cat > "$1/etc/sudoers"' sh "$I" <<'EOF'
Defaults env_reset
Defaults mail_badpass
Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
root ALL=(ALL:ALL) ALL
%sudo ALL=(ALL:ALL) ALL
@includedir /etc/sudoers.d
EOF
"""


def write_scripts(bin_dir: Path) -> None:
    """Today's scripts, and this kind's supervisor and boot beside them."""
    node.write_scripts(bin_dir)
    for name, text in (("supervise-userns.sh", SUPERVISE), ("boot-userns.sh", BOOT)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o644)


def make_image(image: Path, *, holder: userns.Holder, base: tuple[int, int], reader: str | None = None) -> None:
    """The lab's image layer in ``image``, owned inside the lab's user namespace (``base``: the host's uid and
    gid of the namespace's root). ``reader``: the command prefix that reads the host's files (default: as
    ``nobody``, for host root; ``""``: as the caller, a normal user, who reads only what it may)."""
    image.mkdir(mode=0o755)
    os.chown(image, *base)
    r = subprocess.run(["bash", "-c", IMAGE, "image", str(image), str(holder.pid)] + ([] if reader is None else [reader]),
                       capture_output=True, text=True, timeout=120)
    if not (image / "etc" / "sudoers").is_file() or not (image / "etc" / "passwd").is_file():
        raise ClusterkitError(f"could not make the lab's image layer: {r.stderr.strip()[-400:]}", field="userns")


#: Where root's labs keep their image layer from one lab to the next (0711, root's; each image 0700, the range's
#: root's): a lab costs the image only when the host's /etc or its packages changed since.
IMAGE_CACHE = Path("/var/cache/clusterkit/userns")


def image_key(base: tuple[int, int], *, root: Path = Path("/")) -> str:
    """What the image layer is made of, as a digest: the script, the range, every entry of ``/etc`` (owner, mode,
    size, time) and the packages' state (``/usr``'s setuid programs and ``/var``'s folders that matter come with
    packages; ``/var`` itself changes all the time, this cache's own folders too). About 20 ms here."""
    h = hashlib.sha256(f"{IMAGE}\n{base}\n".encode())
    for dirpath, dirnames, filenames in os.walk(root / "etc"):
        dirnames.sort()
        for name in sorted(filenames) + dirnames:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            h.update(f"{path} {st.st_mode} {st.st_uid} {st.st_gid} {st.st_size} {st.st_mtime_ns}\n".encode())
    try:
        st = os.stat(root / "var/lib/dpkg/status")
        h.update(f"dpkg {st.st_size} {st.st_mtime_ns}\n".encode())
    except OSError:
        pass
    return h.hexdigest()[:16]


def cached_image(*, holder: userns.Holder, base: tuple[int, int], cache: Path = IMAGE_CACHE,
                 in_use: set[Path] = frozenset()) -> Path:
    """The image layer of a root lab of ``base``'s range: the cached one when its key (:func:`image_key`) still
    holds, else a new one, made in a temporary folder and renamed into place. Images of other keys that no lab in
    ``in_use`` (the images running labs point at) uses are removed then."""
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o711)
    final = cache / f"{base[0]}-{image_key(base)}"
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (final / "etc" / "sudoers").is_file():
            partial = cache / f".{final.name}.{os.getpid()}"
            shutil.rmtree(partial, ignore_errors=True)
            try:
                make_image(partial, holder=holder, base=base)
                partial.chmod(0o700)
                os.rename(partial, final)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
            for old in cache.iterdir():
                if old != final and not old.name.startswith(".") and old.resolve() not in in_use:
                    shutil.rmtree(old, ignore_errors=True)
    return final


def shift_owners(top: Path, *, base: tuple[int, int]) -> None:
    """Give every file below ``top`` (made by host root with the node's own ids) the host ids the namespace
    maps them to; and mark the opaque folders the way an overlay mounted with ``userxattr`` reads them."""
    for dirpath, dirnames, filenames in os.walk(top):
        for entry in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            st = os.lstat(entry)
            if st.st_uid < userns.SIZE and st.st_gid < userns.SIZE:
                os.lchown(entry, st.st_uid + base[0], st.st_gid + base[1])
        try:
            if os.getxattr(dirpath, "trusted.overlay.opaque") == b"y":
                os.setxattr(dirpath, "user.overlay.opaque", b"y")
        except OSError:
            pass


def make_netns(ns: str, *, holder: userns.Holder) -> None:
    """A network namespace owned by the lab's user namespace, named ``ns`` on the host (``/run/netns``)."""
    p = subprocess.Popen(userns.enter(holder, net=False) + ["unshare", "--net", "--", "sh", "-c", "echo $$; read x"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        pid = (p.stdout.readline() or "").strip()
        r = subprocess.run(["ip", "netns", "attach", ns, pid], capture_output=True, text=True) if pid else None
        if r is None or r.returncode != 0:
            raise ClusterkitError(f"could not name node namespace {ns}: {r.stderr.strip() if r else 'no pid'}",
                                  field="userns")
    finally:
        p.stdin.close()
        p.wait(timeout=10)


def start(*, ns: str, node_dir: Path, bin_dir: Path, holder: userns.Holder) -> procs.Proc:
    """Boot the node in the lab's user namespace; returns its supervisor (the leader of its process group)."""
    (node_dir / "last-exit").unlink(missing_ok=True)
    (node_dir / node.MOUNTS_DONE).unlink(missing_ok=True)
    (node_dir / "rootfs").mkdir(exist_ok=True)
    with open(node_dir / "console.log", "ab") as log:
        return procs.spawn(["ip", "netns", "exec", ns, "/bin/sh", str(bin_dir / "supervise-userns.sh"),
                            str(node_dir), str(bin_dir), f"/proc/{holder.pid}/ns/user"], log=log)
