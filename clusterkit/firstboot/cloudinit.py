"""The trixie card: cloud-init's NoCloud files ``user-data``, ``network-config`` and ``meta-data``.

Raspberry Pi OS from trixie (October 2025) reads these from the boot partition
at first boot. Only standard cloud-init keys are used, so any cloud-init (and
``cloud-init schema``) understands them; the empty ``ssh`` file beside them is
Raspberry Pi OS's own switch for sshd, which its images still honour. The
network-config is netplan's version 2, rendered for NetworkManager.

Output is deterministic: the same card gives the same bytes, and ``meta-data``'s
``instance-id`` is derived from the other files, so a changed card is a new
instance to cloud-init (which then runs its once-per-instance modules again).
"""

from __future__ import annotations

import hashlib
import json

from .card import Card
from .wifi import psk_hex

USER_DATA, NETWORK_CONFIG, META_DATA, SSH = "user-data", "network-config", "meta-data", "ssh"


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def user_data(card: Card) -> str:
    u = card.user
    lines = [
        "#cloud-config",
        f"# clusterkit: the first boot of {card.node}. No default user: this person is the only one.",
        f"hostname: {card.hostname}",
        "# Only the 127.0.1.1 line of /etc/hosts; the cluster's names (notebook 02) stay.",
        "manage_etc_hosts: localhost",
    ]
    if card.timezone:
        lines.append(f"timezone: {card.timezone}")
    lines += [
        f"# {u}'s own group gets the same number as the UID (useradd would take the next free one).",
        "# bootcmd runs at every boot: cloud-init-per makes this once per card (a renamed user's group",
        "# keeps the number, and groupadd would refuse it at the next boot).",
        "bootcmd:",
        "  - [cloud-init-per, instance, clusterkit-group, sh, -c,",
        f"     \"getent group {u} >/dev/null || getent group {card.uid} >/dev/null || groupadd --gid {card.uid} {u}\"]",
        "users:",
        f"  - name: {u}",
        f"    uid: {card.uid}",
        f"    primary_group: {u}",
        f"    groups: [{', '.join(card.groups)}]",
        "    shell: /bin/bash",
    ]
    if card.password_hash:
        lines += ["    lock_passwd: false", f"    hashed_passwd: {q(card.password_hash)}"]
    else:
        lines += ["    lock_passwd: true    # no password: keys only"]
    lines.append(f"    sudo: {q('ALL=(ALL:ALL) ALL' if card.sudo_password else 'ALL=(ALL) NOPASSWD:ALL')}")
    if card.keys:
        lines.append("    ssh_authorized_keys:")
        lines += [f"      - {q(k.strip())}" for k in card.keys]
    lines += [
        f"ssh_pwauth: {'true' if card.password_login else 'false'}",
        "# Host keys: ed25519 only. Making host keys is most of a slow first boot (an RSA key takes",
        "# seconds on a small board, far longer on an emulated one); ed25519 is quick and what OpenSSH prefers.",
        "ssh_genkeytypes: [ed25519]",
        "# sshd on from the first boot (Raspberry Pi OS ships it off; the ssh file beside this one says so too).",
        "runcmd:",
        "  - [systemctl, enable, --now, --no-block, ssh]",
    ]
    return "\n".join(lines) + "\n"


def network_config(card: Card) -> str:
    lines = [
        f"# clusterkit: the network of {card.node} (netplan version 2, for NetworkManager).",
        "network:",
        "  version: 2",
        "  renderer: NetworkManager",
    ]
    wired, up = card.wired, card.uplink
    ethernets, wifis = [], []
    if wired is not None and wired.address:
        ethernets += [
            f"    {wired.interface}:",
            "      # The cluster network: a fixed address and no gateway, never the default route,",
            "      # so the default route stays on the uplink.",
            "      dhcp4: false",
            f"      addresses: [{wired.address}]",
            "      optional: true",
            "      networkmanager:",
            "        passthrough:",
            "          ipv4.never-default: \"true\"",
        ]
    if up is not None:
        entry = [f"    {up.interface}:"]
        if up.mac:
            entry += ["      match:", f"        macaddress: {q(up.mac.lower())}", f"      set-name: {up.interface}"]
        entry += ["      # The uplink: DHCP, and the default route.", "      dhcp4: true", "      optional: true"]
        if up.ssid is None:
            ethernets += entry
        else:
            if up.country:
                entry.append(f"      regulatory-domain: {q(up.country)}")
            entry += ["      access-points:", f"        {q(up.ssid)}:"]
            if up.psk:
                entry.append(f"          password: {q(psk_hex(up.ssid, up.psk))}   # the WPA key, not the passphrase")
            else:
                entry.append("          {}")
            wifis += entry
    if ethernets:
        lines += ["  ethernets:"] + ethernets
    if wifis:
        lines += ["  wifis:"] + wifis
    return "\n".join(lines) + "\n"


def meta_data(card: Card, user: bytes, network: bytes) -> str:
    digest = hashlib.sha256(user + b"\0" + network).hexdigest()[:16]
    return f"instance-id: {card.hostname}-{digest}\nlocal-hostname: {card.hostname}\n"


def files(card: Card) -> dict[str, bytes]:
    user = user_data(card).encode()
    network = network_config(card).encode()
    return {USER_DATA: user, NETWORK_CONFIG: network, META_DATA: meta_data(card, user, network).encode(), SSH: b""}
