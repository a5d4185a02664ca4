"""A local node's sandbox made to look like a freshly imaged board, so the steps have something real to read.

Raspberry Pi OS as it comes off the imager: hostname ``raspberrypi``, the
user ``pi`` (UID 1000, but 1001 on one node, as happens when boards were
imaged at different times), root locked, no keys, NetworkManager with only
the Wi-Fi profile the imager wrote, and a desktop's ``~/.Xauthority``.
"""

from __future__ import annotations

import subprocess

from .users import xauth_entry

#: The node (by position, 0 = first) whose ``pi`` has another UID.
ODD_NODE = 2
ODD_UID = 1001
HOSTNAME = "raspberrypi"

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
HOSTS = f"""127.0.0.1\tlocalhost
::1\t\tlocalhost ip6-localhost ip6-loopback
ff02::1\t\tip6-allnodes
ff02::2\t\tip6-allrouters

127.0.1.1\t\t{HOSTNAME}
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
SSHD_CONFIG = """Include /etc/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def image_files(index: int, *, uplink: str = "wlan0") -> dict[str, tuple[bytes, int]]:
    """Path -> (content, mode) of a fresh image for the node at position ``index``."""
    uid = ODD_UID if index == ODD_NODE else 1000
    text = {
        "/etc/hostname": (HOSTNAME + "\n", 0o644),
        "/etc/hosts": (HOSTS, 0o644),
        "/etc/passwd": (PASSWD.format(uid=uid), 0o644),
        "/etc/group": (GROUP.format(uid=uid), 0o644),
        "/etc/shadow": (SHADOW, 0o640),
        "/etc/gshadow": (GSHADOW, 0o640),
        "/etc/NetworkManager/system-connections/preconfigured.nmconnection": (WIFI.format(uplink=uplink), 0o600),
        "/etc/ssh/sshd_config": (SSHD_CONFIG, 0o644),
    }
    files = {p: (t.encode(), m) for p, (t, m) in text.items()}
    files["/home/pi/.Xauthority"] = (xauth_entry(HOSTNAME), 0o600)
    return files


def fresh_image(cluster) -> None:
    """Lay a fresh image into every local node's sandbox (the local backend only; it writes no backups)."""
    if cluster.backend != "local":
        raise ValueError("fresh_image() prepares local sandboxes; the lab starts fresh by itself")
    for index, node in enumerate(cluster):
        for path, (data, mode) in image_files(index, uplink=cluster.inventory.uplink).items():
            target = node.path(path)
            for suffix in (".clusterkit.bak", ".clusterkit.orig"):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
            node.write_file(path, data, mode=mode, backup=False)
        key = node.path("/etc/ssh/ssh_host_ed25519_key")
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{HOSTNAME}", "-f", str(key)],
                           check=True, capture_output=True)
