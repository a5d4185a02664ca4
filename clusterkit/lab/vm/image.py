"""The virtual boards' disk image: Debian built with mmdebstrap from this machine's own apt sources, cached.

One read-only base per release (``trixie`` by default, ``bookworm`` selectable)
holds what a Raspberry Pi OS Lite card holds for the workbook: systemd, udev,
NetworkManager, openssh-server, chrony, the NFS server and client, sudo, Python,
cloud-init (first boot from the NoCloud files of :mod:`clusterkit.firstboot`,
on a FAT disk labelled ``bootfs`` as a Pi's boot partition is) and the QEMU
guest agent (the lab's hand on the board's clock). It has no host keys and an
empty machine-id, so each board makes its own at its first boot, and no user:
the card makes it. The time service and the NFS server are installed but not
enabled (notebooks 04 and 05 turn them on), as :data:`clusterkit.lab.image.FRESH` says.

For the node agent and the engines, a virtual environment in
``/opt/clusterkit/venv`` holds the same versions of psutil, ipyparallel, … as
the workbook's; clusterkit itself comes from the host at boot, read-only, over
virtio 9p (:data:`SHARE_TAG`), so a changed checkout needs no new image.

The apt sources are this machine's (``/etc/apt/sources.list`` and
``sources.list.d``) with the release's name put for the host's: no mirror is
named here. The image, its kernel and initrd are cached under
:data:`CACHE`, keyed by everything that goes into them.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import ClusterkitError

#: Where built images are kept (and reused): one folder per release and recipe.
CACHE = Path(os.environ.get("CLUSTERKIT_VM_CACHE", "/var/cache/clusterkit/vm"))
RELEASES = ("trixie", "bookworm")
#: Each release's Python (for the boards' wheels).
PYTHON_VERSION = {"trixie": "3.13", "bookworm": "3.11"}
DEFAULT_RELEASE = "trixie"
#: The 9p tag under which the host's clusterkit package reaches the boards (read-only).
SHARE_TAG = "clusterkit"
#: Where the boards see it, and the Python that imports it.
SHARE_MOUNT = "/opt/clusterkit/lib/clusterkit"
VENV = "/opt/clusterkit/venv"
PYTHON = f"{VENV}/bin/python"

PACKAGES = (
    "systemd-sysv", "udev", "dbus", "kmod", "linux-image-amd64", "initramfs-tools", "zstd",
    "openssh-server", "network-manager", "iproute2", "iputils-ping", "netbase", "ca-certificates", "openssl",
    "chrony", "nfs-common", "nfs-kernel-server", "sudo", "procps", "less", "e2fsprogs", "dosfstools",
    "python3", "python3-venv", "cloud-init", "qemu-guest-agent", "util-linux-extra",
    # notebook 05 shows a client two years behind with libfaketime, as on a board
    "faketime",
)
#: What a release needs besides, that an image with its Recommends (as Raspberry Pi OS is) would have:
#: from trixie on, ping works for a user only through the ping_group_range sysctl that
#: linux-sysctl-defaults sets (a Recommends of systemd, procps and iputils-ping; minbase takes none).
RELEASE_PACKAGES = {"trixie": ("linux-sysctl-defaults",), "bookworm": ()}
#: What the boards' Python gets from PyPI, at the workbook's own versions (those installed here).
PYPI = ("psutil", "ipyparallel", "numpy", "PyYAML", "ClusterShell", "fabric")
#: The size of a board's root file system (sparse; a board's writes go to its overlay).
ROOT_SIZE = "4G"
#: Units the image does not run: timers a short-lived board never needs, and services the notebooks enable.
MASKED = ("apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "e2scrub_reap.service",
          "fstrim.timer", "man-db.timer", "dpkg-db-backup.timer", "NetworkManager-wait-online.service",
          "systemd-networkd-wait-online.service")
DISABLED = ("chrony.service", "nfs-server.service", "rpcbind.service", "rpcbind.socket",
            "systemd-timesyncd.service")

#: cloud-init on the boards: the NoCloud files come from the FAT disk labelled bootfs (a Pi's boot
#: partition's label), nothing else is probed, and networks are NetworkManager's.
CLOUD_CFG = """\
# clusterkit virtual board: first boot from the card's NoCloud files, as Raspberry Pi OS does.
datasource_list: [NoCloud, None]
datasource:
  NoCloud:
    fs_label: bootfs
system_info:
  network:
    renderers: [network-manager]
    activators: [network-manager]
"""

#: Mount the host's clusterkit package, read-only, for the agent and the engines.
SHARE_UNIT = f"""\
[Unit]
Description=clusterkit from the lab's host (read-only)
ConditionVirtualization=vm

[Mount]
What={SHARE_TAG}
Where={SHARE_MOUNT}
Type=9p
Options=trans=virtio,version=9p2000.L,ro,nofail

[Install]
WantedBy=multi-user.target
"""

#: The modules a board's initrd needs (a small initrd boots faster under TCG).
INITRD_MODULES = "virtio_pci\nvirtio_blk\nvirtio_net\nvirtio_console\next4\n"


@dataclass(frozen=True)
class Image:
    """A built image: the root file system (qcow2, read-only base) and the kernel and initrd to boot it."""

    release: str
    dir: Path

    disk = property(lambda self: self.dir / "root.qcow2")
    kernel = property(lambda self: self.dir / "vmlinuz")
    initrd = property(lambda self: self.dir / "initrd.img")

    @property
    def info(self) -> dict:
        return json.loads((self.dir / "image.json").read_text())

    def ready(self) -> bool:
        return all(p.is_file() for p in (self.disk, self.kernel, self.initrd, self.dir / "image.json"))


def check_release(release: str) -> str:
    if release not in RELEASES:
        raise ClusterkitError(f"{release!r} is not a release the virtual boards run; choose one of "
                              f"{', '.join(RELEASES)}", field="release")
    return release


def host_codename() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    raise ClusterkitError("cannot tell this machine's Debian release (/etc/os-release)", field="release")


def apt_sources(release: str) -> str:
    """This machine's apt sources (deb822 or one-line), with the release's name put for the host's."""
    host = host_codename()
    main = Path("/etc/apt/sources.list")
    parts = Path("/etc/apt/sources.list.d")
    deb822, oneline = [], [main.read_text()] if main.is_file() else []
    if parts.is_dir():
        for p in sorted(parts.iterdir()):
            if p.suffix == ".sources":
                deb822.append(p.read_text())
            elif p.suffix == ".list":
                oneline.append(p.read_text())
    swap = re.compile(rf"\b{re.escape(host)}(?=$|[-\s])", re.M)
    lines = []
    for t in oneline:
        lines += [swap.sub(release, ln) for ln in t.splitlines()
                  if ln.strip().startswith("deb ") and not ln.strip().startswith("deb-src")]
    stanzas = []
    for t in deb822:
        for stanza in re.split(r"\n\s*\n", t):
            if re.search(r"^Types:.*\bdeb\b", stanza, re.M):
                stanzas.append(swap.sub(release, stanza.strip()))
    if stanzas and not lines:
        return "\n\n".join(stanzas) + "\n"
    if lines and not stanzas:
        return "\n".join(lines) + "\n"
    if not lines and not stanzas:
        raise ClusterkitError("this machine has no apt sources to build the boards' image from", field="release")
    # Both kinds: turn the one-line entries into deb822 stanzas too.
    for ln in lines:
        m = re.match(r"deb\s+(?:\[(?P<opts>[^\]]*)\]\s+)?(?P<uri>\S+)\s+(?P<suite>\S+)\s+(?P<comps>.*)", ln.strip())
        if m:
            stanza = f"Types: deb\nURIs: {m['uri']}\nSuites: {m['suite']}\nComponents: {m['comps']}"
            signed = re.search(r"signed-by=(\S+)", m["opts"] or "")
            if signed:
                stanza += f"\nSigned-By: {signed.group(1)}"
            stanzas.append(stanza)
    return "\n\n".join(stanzas) + "\n"


def pypi_pins() -> list[str]:
    """The boards' Python packages, at the versions this workbook runs (or unpinned where it has none)."""
    pins = []
    for name in PYPI:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def packages(release: str) -> list[str]:
    """The Debian packages in ``release``'s image."""
    return list(PACKAGES) + list(RELEASE_PACKAGES[release])


def recipe(release: str) -> dict:
    """Everything that decides the image's content: its cache key is a hash of this."""
    return {"release": release, "packages": packages(release), "pypi": pypi_pins(), "masked": list(MASKED),
            "disabled": list(DISABLED), "cloud_cfg": CLOUD_CFG, "share": SHARE_UNIT,
            "initrd": INITRD_MODULES, "size": ROOT_SIZE, "version": 3}


def image_for(release: str = DEFAULT_RELEASE) -> Image:
    key = hashlib.sha256(json.dumps(recipe(check_release(release)), sort_keys=True).encode()).hexdigest()[:12]
    return Image(release, CACHE / f"{release}-{key}")


def why_not() -> str | None:
    """Why this machine cannot build or run virtual boards, or None."""
    if os.geteuid() != 0:
        return "virtual boards need root: `sudo clusterkit lab up --vm`"
    for program, package in (("qemu-system-x86_64", "qemu-system-x86"), ("qemu-img", "qemu-utils"),
                             ("mmdebstrap", "mmdebstrap"), ("mkfs.vfat", "dosfstools"), ("mcopy", "mtools"),
                             ("mkfs.ext4", "e2fsprogs")):
        if shutil.which(program) is None:
            return f"{program} is missing: install the Debian package {package} (scripts/setup.sh does)"
    return None


def _customize(release: str) -> list[str]:
    """mmdebstrap hooks (run on the host with the new root as ``$1``)."""
    masks = " ".join(MASKED)
    disabled = " ".join(DISABLED)
    pins = " ".join(pypi_pins())
    return [
        # No host keys, no machine id, no user: each board makes its own at its first boot.
        'rm -f "$1"/etc/ssh/ssh_host_*; : > "$1"/etc/machine-id; rm -f "$1"/var/lib/dbus/machine-id',
        'printf "LABEL=rootfs\\t/\\text4\\tdefaults,noatime\\t0\\t1\\n'
        'LABEL=bootfs\\t/boot/firmware\\tvfat\\tdefaults,nofail,ro\\t0\\t2\\n" > "$1"/etc/fstab',
        'mkdir -p "$1"/boot/firmware "$1"/etc/cloud/cloud.cfg.d "$1"/etc/systemd/system/multi-user.target.wants '
        '"$1"' + SHARE_MOUNT,
        f"cat > \"$1\"/etc/cloud/cloud.cfg.d/90-clusterkit.cfg <<'EOF'\n{CLOUD_CFG}EOF",
        f"cat > \"$1\"/etc/systemd/system/{_unit_name(SHARE_MOUNT)} <<'EOF'\n{SHARE_UNIT}EOF",
        f'ln -sf /etc/systemd/system/{_unit_name(SHARE_MOUNT)} "$1"/etc/systemd/system/multi-user.target.wants/',
        f"printf '{INITRD_MODULES.replace(chr(10), chr(92) + 'n')}' > \"$1\"/etc/initramfs-tools/modules",
        'sed -i "s/^MODULES=.*/MODULES=list/" "$1"/etc/initramfs-tools/initramfs.conf',
        'chroot "$1" update-initramfs -u -k all >/dev/null',
        f'chroot "$1" systemctl mask {masks} >/dev/null 2>&1 || true',
        f'chroot "$1" systemctl disable {disabled} >/dev/null 2>&1 || true',
        'echo raspberrypi > "$1"/etc/hostname',
        # The boards' Python for the agent and the engines (wheels fetched by the host's pip beforehand, so
        # that nothing inside the image reaches a network); clusterkit itself comes over 9p.
        f'chroot "$1" python3 -m venv {VENV}',
        'mkdir -p "$1"/tmp/wheels && cp "$CLUSTERKIT_WHEELS"/*.whl "$1"/tmp/wheels/',
        f'chroot "$1" env PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CONFIG_FILE=/dev/null {VENV}/bin/pip install -q '
        f'--no-index --find-links /tmp/wheels {pins}',
        f'echo /opt/clusterkit/lib > "$(ls -d "$1"{VENV}/lib/python3*/site-packages)"/clusterkit-lab.pth',
        'rm -rf "$1"/tmp/wheels; rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*',
    ]


def _download_wheels(release: str, into: Path) -> None:
    """The boards' Python packages as wheels for the release's Python, fetched by this machine's pip."""
    platforms = [f"--platform=manylinux_2_{n}_x86_64" for n in (28, 17, 5)] + ["--platform=manylinux2014_x86_64",
                                                                                 "--platform=manylinux1_x86_64"]
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--implementation=cp",
           f"--python-version={PYTHON_VERSION[release]}", *platforms, "-d", str(into), *pypi_pins()]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise ClusterkitError(f"could not fetch the boards' Python packages (pip download):\n{tail}", field="release")


def share_unit() -> str:
    """The systemd mount unit of the share (the lab unmounts it for a snapshot and mounts it again)."""
    return _unit_name(SHARE_MOUNT)


def _unit_name(path: str) -> str:
    return path.strip("/").replace("-", "\\x2d").replace("/", "-") + ".mount"


def build(release: str = DEFAULT_RELEASE, *, log=print, force: bool = False) -> Image:
    """The image for ``release``: the cached one, else built now (a few minutes; needs the package registries).

    One build at a time for each release: a second caller waits for the first and takes its image."""
    image = image_for(release)
    if image.ready() and not force:
        return image
    why = why_not()
    if why:
        raise ClusterkitError(why, field="lab")
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".build-{release}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image.ready() and not force:
            return image
        return _build(image, release, log=log)


def _build(image: Image, release: str, *, log) -> Image:
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"build-{release}-", dir=CACHE))
    try:
        root = work / "root"
        cmd = ["mmdebstrap", "--mode=root", "--variant=minbase", "--format=directory",
               f"--include={','.join(packages(release))}", "--aptopt=Acquire::Languages \"none\"",
               "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
               "--dpkgopt=path-exclude=/usr/share/locale/*", "--dpkgopt=path-include=/usr/share/locale/locale.alias"]
        cmd += [f"--customize-hook={hook}" for hook in _customize(release)]
        wheels = work / "wheels"
        _download_wheels(release, wheels)
        cmd += [release, str(root), "-"]
        log(f"building the {release} image for virtual boards (mmdebstrap, this machine's apt sources)…")
        proc = subprocess.run(cmd, input=apt_sources(release), capture_output=True, text=True,
                              env={**os.environ, "CLUSTERKIT_WHEELS": str(wheels)})
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise ClusterkitError(f"mmdebstrap failed (exit {proc.returncode}):\n{tail}", field="release")
        t_root = time.monotonic() - t0
        kernel = max((root / "boot").glob("vmlinuz-*"))
        initrd = max((root / "boot").glob("initrd.img-*"))
        shutil.copy2(kernel, work / "vmlinuz")
        shutil.copy2(initrd, work / "initrd.img")
        raw = work / "root.raw"
        subprocess.run(["mkfs.ext4", "-q", "-L", "rootfs", "-d", str(root), str(raw), ROOT_SIZE], check=True,
                       capture_output=True)
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(work / "root.qcow2")], check=True,
                       capture_output=True)
        raw.unlink()
        used = int(subprocess.run(["du", "-sk", str(root)], capture_output=True, text=True).stdout.split()[0])
        shutil.rmtree(root)
        info = {"release": release, "kernel": kernel.name, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seconds": round(time.monotonic() - t0, 1), "seconds_rootfs": round(t_root, 1),
                "used_kib": used, "qcow2_bytes": (work / "root.qcow2").stat().st_size, "recipe": recipe(release)}
        (work / "image.json").write_text(json.dumps(info, indent=1) + "\n")
        if image.dir.exists():
            shutil.rmtree(image.dir)
        os.replace(work, image.dir)
        os.chmod(image.disk, 0o444)
        log(f"image ready in {info['seconds']:.0f} s: {image.dir}")
        return image
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


__all__ = ["Image", "build", "image_for", "why_not", "check_release", "apt_sources", "RELEASES", "DEFAULT_RELEASE",
           "CACHE", "SHARE_TAG", "SHARE_MOUNT", "PYTHON"]
