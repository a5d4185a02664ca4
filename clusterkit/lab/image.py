"""The fresh-image starting state of a lab node, kept in one place.

A lab starts as a box of freshly imaged boards does, with the problems the
notebooks teach to fix. The notebooks' text and the tests import these facts
from here rather than repeating them:

- every node's hostname is ``raspberrypi``;
- a node is reachable only at the address the venue router's DHCP gave its
  Wi-Fi (``wlan0``); the wired ``eth0`` has no address yet;
- the image's user ``pi`` logs in by password (the workshop password below,
  also in the lab's inventory; never printed), is in group ``sudo``, and sudo
  asks for that password;
- on one node ``pi`` has a different UID from the others;
- no SSH keys (only each node's own host key), no time service running.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The workshop password of user ``pi`` on every lab node (README.md, "The lab", says it too).
WORKSHOP_PASSWORD = "raspberry-lab"


@dataclass(frozen=True)
class FreshImage:
    """What every lab node looks like right after ``lab up``."""

    hostname: str = "raspberrypi"   #: the same on every node, as on a freshly imaged card
    user: str = "pi"                #: the image's login user
    uid: int = 1000                 #: pi's UID (and GID) on most nodes
    odd_uid: int = 1001             #: pi's UID on the odd node out
    odd_index: int = 1              #: which node (by index) has the odd UID, when there are at least two
    shell: str = "/bin/bash"
    #: pi's supplementary groups (those the host's group file knows are kept).
    groups: tuple[str, ...] = ("adm", "dialout", "cdrom", "sudo", "audio", "video", "plugdev",
                               "games", "users", "input", "render", "netdev")
    sudo_needs_password: bool = True   #: like the image: sudo asks for pi's password
    ssh_keys: bool = False             #: no user keys anywhere; password logins only
    time_service: bool = False         #: no chronyd or timesyncd running
    wired_address: bool = False        #: eth0 has no address until notebook 02 gives one
    #: The units the image enables at boot, each with its aliases (``systemctl enable`` adds more; the node's
    #: boot starts them). No time service or NFS server: the notebooks add those.
    enabled: tuple[tuple[str, tuple[str, ...]], ...] = (("ssh.service", ("sshd.service",)),)

    def uid_of(self, index: int, count: int) -> int:
        """pi's UID on node number ``index`` of a lab of ``count`` nodes."""
        return self.odd_uid if count > 1 and index == self.odd_index else self.uid

    def hosts_file(self) -> str:
        """The image's ``/etc/hosts``."""
        return ("127.0.0.1\tlocalhost\n"
                "::1\t\tlocalhost ip6-localhost ip6-loopback\n"
                "ff02::1\t\tip6-allnodes\n"
                "ff02::2\t\tip6-allrouters\n\n"
                f"127.0.1.1\t{self.hostname}\n")


#: The one fresh image every lab node starts from.
FRESH = FreshImage()

#: The node's sshd configuration: password logins, no PAM (so no systemd-logind),
#: drop-ins honoured (notebook 03 adds one), sftp for put/get, room for fan-out.
SSHD_CONFIG = """\
# sshd of a clusterkit lab node (a freshly imaged board)
Include /etc/ssh/sshd_config.d/*.conf
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PrintMotd no
AcceptEnv LANG LC_*
MaxStartups 200:30:400
MaxSessions 64
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def _system_entry(line: str) -> bool:
    """A host account or group kept on the image: system ids (below 1000) and ``nobody``."""
    fields = line.split(":")
    try:
        ident = int(fields[2])
    except (IndexError, ValueError):
        return False
    return ident < 1000 or ident == 65534


def account_files(*, host_etc: str, uid: int, password_hash: str, image: FreshImage = FRESH) -> dict[str, str]:
    """The image's ``passwd``, ``shadow``, ``group`` and ``gshadow``.

    The host's system accounts are kept (the host's packages, such as sshd,
    need their users) with every password locked; the host's own people are
    left out; ``pi`` is added with ``uid`` and ``password_hash``.
    """
    def read(name: str) -> list[str]:
        try:
            with open(f"{host_etc}/{name}") as f:
                return [line.rstrip("\n") for line in f if line.strip()]
        except PermissionError:
            # A normal user's lab (:mod:`.userlab`) may not read the host's shadow files: every kept account
            # is locked anyway, so they are made from passwd and group (locked, no aging).
            if name == "shadow":
                return [f"{line.split(':')[0]}:*:19800:0:99999:7:::" for line in read("passwd")]
            if name == "gshadow":
                return [f"{line.split(':')[0]}:*::" for line in read("group")]
            raise

    user = image.user
    passwd = [line for line in read("passwd") if _system_entry(line) and line.split(":")[0] != user]
    kept = {line.split(":")[0] for line in passwd}
    passwd.append(f"{user}:x:{uid}:{uid}:,,,:/home/{user}:{image.shell}")

    shadow = []
    for line in read("shadow"):
        f = line.split(":")
        if f[0] in kept:
            f[1] = "*"          # no host password hash ever reaches a node
            shadow.append(":".join(f))
    shadow.append(f"{user}:{password_hash}:19800:0:99999:7:::")

    groups, gids = [], {}
    for line in read("group"):
        f = line.split(":")
        if not _system_entry(line) or f[0] == user:
            continue
        members = [m for m in f[3].split(",") if m in kept] if len(f) > 3 else []
        if f[0] in image.groups:
            members.append(user)
        groups.append(":".join(f[:3] + [",".join(members)]))
        gids[f[0]] = f[2]
    groups.append(f"{user}:x:{uid}:")

    gshadow = []
    for line in read("gshadow"):
        f = line.split(":")
        if f[0] not in gids:
            continue
        members = [m for m in f[3].split(",") if m in kept] if len(f) > 3 else []
        if f[0] in image.groups:
            members.append(user)
        gshadow.append(":".join([f[0], "*", f[2] if len(f) > 2 else "", ",".join(members)]))
    gshadow.append(f"{user}:!::")
    return {name: "\n".join(lines) + "\n" for name, lines in
            (("passwd", passwd), ("shadow", shadow), ("group", groups), ("gshadow", gshadow))}
