"""A local node's sandbox made to look like a freshly imaged board, so the steps have something real to read.

Raspberry Pi OS as it comes off the imager: hostname ``raspberrypi``, the
user ``pi`` (UID 1000, but 1001 on one node, as happens when boards were
imaged at different times), root locked, no keys, NetworkManager with only
the Wi-Fi profile the imager wrote, the image's ``/etc/fstab``, and a desktop's ``~/.Xauthority``.
The facts the lab shares (names, UIDs, which node is odd) come from
:mod:`clusterkit.lab.image`, so the lab, the sandboxes and the notebooks agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lab.image import FRESH
from .accounts import xauth_entry

if TYPE_CHECKING:
    from ..cluster import Cluster

HOSTNAME = FRESH.hostname

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
sshd:x:105:65534::/run/sshd:/usr/sbin/nologin
pi:x:{uid}:{uid}:,,,:/home/pi:/bin/bash
"""
GROUP = """root:x:0:
adm:x:4:pi
sudo:x:27:pi
video:x:44:pi
users:x:100:pi
nogroup:x:65534:
pi:x:{uid}:
"""
SHADOW = """root:*:19800:0:99999:7:::
daemon:*:19800:0:99999:7:::
bin:*:19800:0:99999:7:::
sys:*:19800:0:99999:7:::
nobody:*:19800:0:99999:7:::
sshd:!:19800::::::
pi:$6$rounds=5000$imagesalt$notarealhashnotarealhashnotarealhashnotarealhash0:19800:0:99999:7:::
"""
GSHADOW = """root:*::
adm:*::pi
sudo:*::pi
video:*::pi
users:*::pi
nogroup:*::
pi:!::
"""
WIFI = """[connection]
id=preconfigured
uuid=6c0a3b7e-1f62-4b8e-9d47-5f3c2a1e9b10
type=wifi
interface-name={uplink}

[wifi]
mode=infrastructure
ssid=venue

[ipv4]
method=auto

[ipv6]
addr-gen-mode=default
method=auto
"""
FSTAB = """proc            /proc           proc    defaults          0       0
PARTUUID=4e639091-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=4e639091-02  /               ext4    defaults,noatime  0       1
# a swapfile is not a swap partition, no line here for that; use  dphys-swapfile swap[on|off]  for that
"""
SSHD_CONFIG = """Include /etc/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def image_files(index: int, count: int, *, uplink: str = "wlan0") -> dict[str, tuple[bytes, int]]:
    """Path -> (content, mode) of a fresh image for node ``index`` of ``count`` (the lab's facts, from lab.image)."""
    uid = FRESH.uid_of(index, count)
    text = {
        "/etc/hostname": (HOSTNAME + "\n", 0o644),
        "/etc/hosts": (FRESH.hosts_file(), 0o644),
        "/etc/passwd": (PASSWD.format(uid=uid), 0o644),
        "/etc/group": (GROUP.format(uid=uid), 0o644),
        "/etc/shadow": (SHADOW, 0o640),
        "/etc/gshadow": (GSHADOW, 0o640),
        "/etc/NetworkManager/system-connections/preconfigured.nmconnection": (WIFI.format(uplink=uplink), 0o600),
        "/etc/ssh/sshd_config": (SSHD_CONFIG, 0o644),
        "/etc/fstab": (FSTAB, 0o644),
    }
    files = {p: (t.encode(), m) for p, (t, m) in text.items()}
    files["/home/pi/.Xauthority"] = (xauth_entry(HOSTNAME), 0o600)
    return files


def prepare(cluster: Cluster) -> bool:
    """Lay a fresh image into nodes that wait for one (local sandboxes not made yet); True when it did.

    Other kinds of node start fresh by themselves (the lab) or are real boards: nothing is done.
    """
    if not any(node.platform.needs_image(node) for node in cluster):
        return False
    fresh_image(cluster)
    return True


def fresh_image(cluster: Cluster) -> None:
    """Lay a fresh image onto every node, as the imager would (local sandboxes only; it writes no backups)."""
    for index, node in enumerate(cluster):
        files = image_files(index, len(cluster), uplink=cluster.inventory.uplink)
        if not node.platform.lay_image(node, files, hostname=HOSTNAME):
            raise ValueError("fresh_image() prepares local sandboxes; the lab starts fresh by itself")
